// Text outputs of the master CLI, laid out the way HAProxy's management guide shows them so
// that operators' habits and scripts (awk on columns, grep on `Key:`) carry over.
import type { InfoFields, ProcessRow, SocketRow } from './backend.ts';

/** HAProxy prints `show proc` as left-aligned 15-character fields separated by a space. */
const COLUMN_WIDTH = 16;

function columns(fields: string[]): string {
  const last = fields.length - 1;
  return fields.map((f, i) => (i === last ? f : f.padEnd(COLUMN_WIDTH - 1) + ' ')).join('');
}

/** `0d00h01m02s`, as in HAProxy's `show proc`. */
export function formatUptime(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3_600) % 24)}h${two(Math.floor(s / 60) % 60)}m${two(s % 60)}s`;
}

/** What a row adds after the version: a slot's trouble, or an old worker's drain. */
function rowNote(row: ProcessRow): string | undefined {
  if (row.old) {
    const drain = row.drainingForMs === undefined ? 'waiting for its replacement' : `draining for ${formatUptime(row.drainingForMs / 1000)}`;
    return `[generation ${row.generation ?? '?'}, ${drain}]`;
  }
  const notes: string[] = [];
  if (row.respawningInMs !== undefined) notes.push(`respawning in ${Math.ceil(row.respawningInMs)} ms`);
  if (row.respawns > 0 || row.respawningInMs !== undefined) notes.push(`respawns: ${row.respawns}`);
  if (row.failedStarts) notes.push(`failed starts: ${row.failedStarts}`);
  return notes.length > 0 ? `[${notes.join(', ')}]` : undefined;
}

function processLine(row: ProcessRow, now: number): string {
  const respawning = row.respawningInMs !== undefined;
  const fields = [
    respawning ? '-' : String(row.pid),
    row.type,
    String(row.relativePid),
    String(row.reloads),
    respawning ? '-' : formatUptime((now - row.startedAt) / 1000),
    row.version,
  ];
  const note = rowNote(row);
  return columns(note === undefined ? fields : [...fields, note]);
}

/**
 * The master, then the workers by relative PID; workers a restart replaced and that are still
 * draining follow under `# old workers`, as in HAProxy, so they can be found and reached (`@!<pid>`).
 */
export function formatProcessTable(rows: readonly ProcessRow[], now: number): string {
  const byRelativePid = (a: ProcessRow, b: ProcessRow) => a.relativePid - b.relativePid;
  const lines = [columns(['#<PID>', '<type>', '<relative PID>', '<reloads>', '<uptime>', '<version>'])];
  lines.push(...rows.filter((r) => !r.old).sort(byRelativePid).map((r) => processLine(r, now)));
  const old = rows.filter((r) => r.old).sort(byRelativePid);
  if (old.length > 0) lines.push('# old workers', ...old.map((r) => processLine(r, now)));
  return `${lines.join('\n')}\n`;
}

/** `config_sha256` → `Config_sha256`: HAProxy's `show info` capitalises its field names. */
function infoKey(field: string): string {
  return field.charAt(0).toUpperCase() + field.slice(1);
}

export function formatInfo(info: InfoFields): string {
  return Object.entries(info)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => `${infoKey(field)}: ${value ?? ''}\n`)
    .join('');
}

export function formatInfoJson(info: InfoFields): string {
  return `${JSON.stringify(info)}\n`;
}

function formatOctalMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

export function formatSocketTable(rows: readonly SocketRow[]): string {
  return ['# socket lvl mode\n', ...rows.map((r) => `${r.path} ${r.level} ${formatOctalMode(r.mode)}\n`)].join('');
}
