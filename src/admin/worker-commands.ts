// The commands a worker answers for itself when the master routes one to it (`@1 show info`).
// They are all read-only, so the master's level check before routing is the only one needed.
// One table, as on the master: `help`, `help <command>`, dispatch and suggestions read it.
import type { WorkerBackend } from './backend.ts';
import { findCommand, formatCommandHelp, formatHelp, type CommandSpec } from './commands.ts';
import { formatInfo, formatInfoJson } from './format.ts';
import { normalizeCommand } from './line.ts';
import { formatStat, formatStatJson } from './stat-format.ts';
import { INVALID_INPUT, describeFailure, errorReply, statusReply, unknownCommandReply } from './reply.ts';
import { VERSION } from '../version.ts';

interface WorkerCommand extends CommandSpec {
  run(backend: WorkerBackend, args: readonly string[]): string;
}

function formatSites(backend: WorkerBackend): string {
  const { generation } = backend.info();
  const lines = backend.sites();
  // A site's routes follow it on indented lines; only the host lines are counted.
  const hosts = lines.filter((l) => !l.startsWith(' ')).length;
  return [`# generation ${generation}, ${hosts} site(s)\n`, ...lines.map((s) => `${s}\n`)].join('');
}

export const WORKER_COMMANDS: readonly WorkerCommand[] = [
  {
    usage: 'help [<command>]',
    description: 'list the commands valid at this level, or describe one',
    run: (_b, args) => (args.length === 0 ? formatHelp(WORKER_COMMANDS) : (formatCommandHelp(WORKER_COMMANDS, args.join(' ')) ?? unknownCommandReply(args.join(' ')))),
  },
  { usage: 'status', description: "this worker's health as seed JSON (uptime, sites)", run: (b) => statusReply(b.status()) },
  {
    usage: 'show info',
    description: "this worker's generation, config hash and counters",
    details: 'Key: value lines about this worker alone: its PID and relative PID, uptime, the generation\nand config SHA-256 it serves, the generations it applied, and its open connections and requests.',
    run: (b) => formatInfo(b.info()),
  },
  { usage: 'show info json', description: 'the same as one JSON object', run: (b) => formatInfoJson(b.info()) },
  { usage: 'show version', description: 'the version this worker runs', run: () => `${VERSION}\n` },
  { usage: 'show sites', description: "this worker's routing table, one host pattern per line", run: formatSites },
  { usage: 'show stat', description: "this worker's traffic per site and server since the last reload", run: (b) => formatStat(b.stat()) },
  { usage: 'show stat json', description: 'the same as one JSON array', run: (b) => formatStatJson(b.stat()) },
];

/** The text reply of this worker to one routed command line. */
export function runWorkerCommand(line: string, backend: WorkerBackend): string {
  const command = normalizeCommand(line);
  if (command === '') return errorReply(INVALID_INPUT);
  const found = findCommand(WORKER_COMMANDS, command);
  if (found === undefined) return unknownCommandReply(command);
  try {
    return found.entry.run(backend, found.args);
  } catch (err) {
    return errorReply(describeFailure(err));
  }
}
