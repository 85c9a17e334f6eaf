// Command-line flags and their REVERSE_PROXY_* environment variables for `reverse-proxy
// reloader`. A flag wins over its variable; a variable wins over the default. Every interval and
// limit the reloader uses is defined here, so docs/reloader.md and `--help` name the same values.
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_ADMIN_SOCKET_PATH } from '../config/defaults.ts';
import { LOG_LEVELS } from '../config/schema.ts';
import { socketPathProblem } from '../config/socket-path.ts';
import { parseSocketOwner } from '../admin/socket-owner.ts';
import { UsageError } from '../errors.ts';

const DEFAULT_CONFIG_FILE_NAME = 'config.toml';
/** Quiet time after the last filesystem event before the mount is compared with the proxy. */
export const DEFAULT_DEBOUNCE_MS = 250;
/** Periodic comparison that catches any event the watcher missed. */
export const DEFAULT_RESYNC_SECS = 30;
/** 0: a config whose reload failed is retried only when its content changes. */
export const DEFAULT_RETRY_FAILED_SECS = 0;
/** Cap of the exponential backoff between retries of a failed config (with --retry-failed-secs). */
export const DEFAULT_RETRY_FAILED_MAX_SECS = 600;
/** Cap of the exponential backoff while the admin socket is missing or the proxy is down. */
export const DEFAULT_SOCKET_RETRY_MAX_MS = 5_000;
/** How long to wait for the answer to `reload`; the proxy answers once every worker applied it. */
export const DEFAULT_RELOAD_TIMEOUT_SECS = 120;
const DEFAULT_LOG_LEVEL = 'info';

type LogLevel = (typeof LOG_LEVELS)[number];

export interface ReloaderOptions {
  watchDirs: string[];
  /** Absolute path of the config file: `--file` resolved inside the first watch dir. */
  configFile: string;
  socketPath: string;
  /** A uid besides our own and root's whose admin socket the reloader accepts. */
  socketOwner: number | undefined;
  debounceMs: number;
  resyncSecs: number;
  retryFailedSecs: number;
  retryFailedMaxSecs: number;
  socketRetryMaxMs: number;
  reloadTimeoutSecs: number;
  listen: { host: string; port: number } | undefined;
  logLevel: LogLevel;
}

type FlagKind = 'dirs' | 'string' | 'integer';

interface FlagSpec {
  kind: FlagKind;
  /** Shown in --help after the flag name. */
  value: string;
  help: string;
  default?: string;
  /** Lowest accepted integer. */
  min?: number;
}

const FLAGS = {
  watch: { kind: 'dirs', value: 'DIR', help: 'directory to watch, normally the ConfigMap mount; repeatable (env: comma-separated)' },
  file: { kind: 'string', value: 'NAME', default: DEFAULT_CONFIG_FILE_NAME, help: 'config file inside the first --watch dir (or an absolute path)' },
  socket: { kind: 'string', value: 'PATH', default: DEFAULT_ADMIN_SOCKET_PATH, help: 'admin socket of the proxy (needs operator level)' },
  'socket-owner': { kind: 'string', value: 'UID|NAME', help: 'also accept a socket owned by this user (by default only one owned by this user or root)' },
  'debounce-ms': { kind: 'integer', value: 'MS', min: 0, default: String(DEFAULT_DEBOUNCE_MS), help: 'quiet time after a change before comparing' },
  'resync-secs': { kind: 'integer', value: 'SECS', min: 1, default: String(DEFAULT_RESYNC_SECS), help: 'periodic comparison that catches missed events' },
  'retry-failed-secs': { kind: 'integer', value: 'SECS', min: 0, default: String(DEFAULT_RETRY_FAILED_SECS), help: 'first retry of a failed config; 0 waits for the next change' },
  'retry-failed-max-secs': { kind: 'integer', value: 'SECS', min: 1, default: String(DEFAULT_RETRY_FAILED_MAX_SECS), help: 'cap of the backoff between retries of a failed config' },
  'socket-retry-max-ms': { kind: 'integer', value: 'MS', min: 1, default: String(DEFAULT_SOCKET_RETRY_MAX_MS), help: 'cap of the backoff while the proxy is unreachable' },
  'reload-timeout-secs': { kind: 'integer', value: 'SECS', min: 1, default: String(DEFAULT_RELOAD_TIMEOUT_SECS), help: 'how long to wait for the reply to reload' },
  listen: { kind: 'string', value: 'HOST:PORT', help: 'serve /healthz and /metrics over HTTP (off by default)' },
  'log-level': { kind: 'string', value: 'LEVEL', default: DEFAULT_LOG_LEVEL, help: LOG_LEVELS.join(', ') },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

/** `--resync-secs` → `REVERSE_PROXY_RESYNC_SECS`. */
export function envNameOf(flag: string): string {
  return `REVERSE_PROXY_${flag.toUpperCase().replaceAll('-', '_')}`;
}

export function usage(): string {
  const entries = Object.entries(FLAGS).map(([name, spec]: [string, FlagSpec]) => [`  --${name} ${spec.value}`, name, spec] as const);
  const width = Math.max(...entries.map(([left]) => left.length)) + 2;
  const rows = entries.map(([left, name, spec]) => {
    const def = spec.default === undefined ? '' : ` [default: ${spec.default}]`;
    return `${left.padEnd(width)}${spec.help}${def}\n${''.padEnd(width)}env ${envNameOf(name)}`;
  });
  return [
    'Usage: reverse-proxy reloader --watch DIR [options]',
    '',
    'Watches a ConfigMap mount and reloads the proxy through its admin socket when the',
    "config file's SHA-256 differs from the one the proxy runs. Runs until SIGTERM/SIGINT.",
    '',
    ...rows,
    `${'  --help'.padEnd(width)}print this help`,
    '',
  ].join('\n');
}

export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new UsageError(`--listen "${text}": expected HOST:PORT, such as 0.0.0.0:9090 or [::1]:9090`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function parseInteger(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${flag} "${text}": expected a whole number`);
  const value = Number(text);
  if (value < min) throw new UsageError(`--${flag} ${value}: must be at least ${min}`);
  return value;
}

/** Splits argv into flag values; `--name value` and `--name=value` are both accepted. */
function readArgv(argv: readonly string[]): Map<FlagName, string[]> {
  const values = new Map<FlagName, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)) as FlagName;
    if (!Object.hasOwn(FLAGS, name)) throw new UsageError(`unknown flag --${name}`);
    let value: string | undefined = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value (${FLAGS[name].value})`);
    if (FLAGS[name].kind !== 'dirs' && values.has(name)) throw new UsageError(`--${name} given twice`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return values;
}

/** True when argv asks for help; checked before anything else so `--help` never fails. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** Parses flags over environment over defaults. Throws UsageError on any mistake. */
export function parseReloaderOptions(argv: readonly string[], env: NodeJS.ProcessEnv): ReloaderOptions {
  const fromArgv = readArgv(argv);
  const raw = (name: FlagName): string[] | undefined => {
    const given = fromArgv.get(name);
    if (given) return given;
    const fromEnv = env[envNameOf(name)];
    if (fromEnv !== undefined && fromEnv !== '') {
      return FLAGS[name].kind === 'dirs' ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : [fromEnv];
    }
    const spec: FlagSpec = FLAGS[name];
    return spec.default === undefined ? undefined : [spec.default];
  };
  const one = (name: FlagName) => raw(name)?.[0];
  const integer = (name: FlagName) => {
    const spec: FlagSpec = FLAGS[name];
    return parseInteger(name, one(name)!, spec.min ?? 0);
  };

  // Relative dirs are resolved once, here: a later chdir must not move the watch.
  const watchDirs = (raw('watch') ?? []).map((dir) => resolve(dir));
  if (watchDirs.length === 0) throw new UsageError(`--watch DIR is required (or ${envNameOf('watch')})`);

  const file = one('file')!;
  const configFile = isAbsolute(file) ? file : join(watchDirs[0]!, file);

  const socketPath = one('socket')!;
  const socketProblem = socketPathProblem(socketPath);
  if (socketProblem) throw new UsageError(`--socket ${socketProblem}`);

  const owner = one('socket-owner');
  const socketOwner = owner === undefined ? undefined : parseSocketOwner('--socket-owner', owner);

  const logLevel = one('log-level')!;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level "${logLevel}": must be one of ${LOG_LEVELS.join(', ')}`);

  const listenText = one('listen');
  return {
    watchDirs,
    configFile,
    socketPath,
    socketOwner,
    debounceMs: integer('debounce-ms'),
    resyncSecs: integer('resync-secs'),
    retryFailedSecs: integer('retry-failed-secs'),
    retryFailedMaxSecs: integer('retry-failed-max-secs'),
    socketRetryMaxMs: integer('socket-retry-max-ms'),
    reloadTimeoutSecs: integer('reload-timeout-secs'),
    listen: listenText === undefined ? undefined : parseListen(listenText),
    logLevel: logLevel as LogLevel,
  };
}
