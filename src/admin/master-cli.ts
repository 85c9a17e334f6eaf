// The master CLI: one command line in, the text to send back out. A line may hold several
// commands separated by `;`, each optionally prefixed with a routing word (`@1 show info`);
// a bare routing word changes where the following commands go. The seed 000 commands keep
// their exact JSON replies; the rest follow HAProxy's master CLI.
import type { AdminLevel } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { MasterBackend, Target } from './backend.ts';
import { findCommand, formatCommandHelp, formatHelp, formatSuggestions, suggestCommands, type CommandSpec } from './commands.ts';
import { formatInfo, formatInfoJson, formatProcessTable, formatSocketTable } from './format.ts';
import { formatCertificates, formatCertificatesJson } from './format-certs.ts';
import { levelAllows } from './levels.ts';
import { formatStat, formatStatJson } from './stat-format.ts';
import type { AdminLimits } from './limits.ts';
import { normalizeCommand } from './line.ts';
import { INVALID_INPUT, describeFailure, errorReply, reloadReply, statusReply, unknownCommandReply } from './reply.ts';
import { formatServerTable, setServer } from './servers.ts';
import { describeTarget, parseTarget, resolveTarget } from './target.ts';
import { WORKER_COMMANDS } from './worker-commands.ts';
import { VERSION } from '../version.ts';

/** What one connection remembers between lines. */
export interface CliSession {
  readonly level: AdminLevel;
  /** Where commands without a routing prefix go; changed by a bare `@1` / `@`. */
  target: Target;
  /** Set by `prompt`: the connection stays open and a prompt follows every reply. */
  interactive: boolean;
  /** Set by `quit`: the connection closes once this line's output is sent. */
  quit: boolean;
}

export interface CliContext {
  backend: MasterBackend;
  logger: Logger;
  limits: Readonly<AdminLimits>;
  /** Reserves an interactive-session slot on this socket; false when none is free. */
  enterPrompt(): boolean;
  leavePrompt(): void;
}

interface MasterCommand extends CommandSpec {
  level: AdminLevel;
  /** `args`: the words after the command's fixed ones, for a usage with `<placeholders>`. */
  run(context: CliContext, session: CliSession, args: readonly string[]): string | Promise<string>;
}

function togglePrompt(context: CliContext, session: CliSession): string {
  if (session.interactive) {
    session.interactive = false;
    context.leavePrompt();
    return '';
  }
  if (!context.enterPrompt()) return errorReply('too many interactive sessions on this socket; try again later');
  session.interactive = true;
  return '';
}

/** The lowest-numbered live worker, which answers `show sites` sent to the master. */
async function showSitesOfFirstWorker(context: CliContext, session: CliSession): Promise<string> {
  const worker = context.backend
    .processes()
    .filter((p) => p.type === 'worker' && p.respawningInMs === undefined)
    .sort((a, b) => a.relativePid - b.relativePid)[0];
  if (worker === undefined) return errorReply('no live worker to answer show sites');
  return askWorker(context, session, { kind: 'relative', relativePid: worker.relativePid }, 'show sites');
}

const MASTER_COMMANDS: readonly MasterCommand[] = [
  {
    usage: 'help [<command>]',
    level: 'user',
    description: 'list the commands valid at this level, or describe one',
    details: '"help reload" explains one command; "help show" lists the commands that begin with "show".\nSent to a worker ("@1 help"), it lists what a worker answers.',
    run: (_c, s, args) => helpFor(s.level, args.join(' ')),
  },
  {
    usage: 'prompt',
    level: 'user',
    description: 'toggle interactive mode with prompt',
    details: 'The connection stays open and every reply is followed by a prompt naming the default\ntarget ("master> ", "1> "). "prompt" again, "quit" or closing the connection ends it.\n"reverse-proxy ctl" without a command does this for you, with line editing and history.',
    run: togglePrompt,
  },
  {
    usage: 'quit',
    level: 'user',
    description: 'disconnect',
    run: (_c, s) => {
      s.quit = true;
      return '';
    },
  },
  {
    usage: 'status',
    level: 'user',
    description: 'readiness as JSON: uptime and sites, an error while draining',
    details: 'The readiness probe: {"status":"ok","uptime_secs":N,"sites":N} while the proxy serves, an\nerror while it drains for shutdown or has no live worker ("reverse-proxy ctl status" exits 1).',
    run: (c) => statusReply(c.backend.status()),
  },
  {
    usage: 'show proc',
    level: 'user',
    description: 'show processes status',
    details: 'One row per process: PID, type, relative PID (the N of "@N"), reloads, uptime, version.\nThe master first, then the workers by relative PID.',
    run: (c) => formatProcessTable(c.backend.processes(), Date.now()),
  },
  {
    usage: 'show info',
    level: 'user',
    description: 'report information about the master process',
    details: 'Key: value lines: version, PID, uptime, config file and its SHA-256, generation, sites,\nworkers, reload counts and the last reload\'s time, result and message.',
    run: (c) => formatInfo(c.backend.info()),
  },
  { usage: 'show info json', level: 'user', description: 'the same as one JSON object', details: 'The fields of "show info" as one JSON line; the reloader reads config_sha256 from it.', run: (c) => formatInfoJson(c.backend.info()) },
  { usage: 'show version', level: 'user', description: 'the version of this reverse-proxy', run: () => `${VERSION}\n` },
  { usage: 'show cli sockets', level: 'user', description: 'dump list of cli sockets', details: 'Every admin socket of this proxy: path, level (user, operator, admin) and file mode.', run: (c) => formatSocketTable(c.backend.sockets()) },
  {
    usage: 'show sites',
    level: 'user',
    description: 'routing table of the first live worker',
    details: 'The hosts and upstreams a worker compiled from its generation; "@2 show sites" asks worker 2.',
    run: showSitesOfFirstWorker,
  },
  {
    usage: 'show stat',
    level: 'user',
    description: 'traffic per site and server since the last reload, all workers (CSV)',
    details: 'One CSV row per site, then per upstream server of it, summed over every worker: requests by\nstatus class, in flight, body bytes, p50/p99 duration, UP/DOWN. "@1 show stat" asks worker 1.',
    run: async (c) => formatStat(await c.backend.stat()),
  },
  { usage: 'show stat json', level: 'user', description: 'the same as one JSON array', run: async (c) => formatStatJson(await c.backend.stat()) },
  {
    usage: 'show servers',
    level: 'user',
    description: 'every upstream group and server: health, admin state, weight, last check',
    details: 'One line per server of every upstream group (a site\'s own URL list is a group "site:<host>"):\nhealth from the master\'s checks, admin state from "set server", weight, backup, last check.',
    run: async (c) => formatServerTable(await c.backend.servers()),
  },
  {
    usage: 'set server <group>/<url> state ready|drain|maint',
    level: 'operator',
    description: 'take a server out of rotation or back, until the next reload',
    details: 'drain and maint: the server gets no new requests, those in flight finish; ready: back in.\nHolds on every worker until the next reload or restart, which set every server to ready.',
    run: (c, _s, args) => setServer(c.backend, args),
  },
  {
    usage: 'show certs',
    level: 'user',
    description: 'certificates in use: names, expiry, fingerprint, file',
    details: 'One block per certificate of the running generation: file, key file, whether it is the\ndefault, subject, SAN names, not-after and SHA-256 fingerprint. See docs/tls.md.',
    run: (c) => formatCertificates(c.backend.certificates()),
  },
  { usage: 'show certs json', level: 'user', description: 'the same as one JSON array', run: (c) => formatCertificatesJson(c.backend.certificates()) },
  {
    usage: 'reload',
    level: 'operator',
    description: 're-read the config file and apply it to every worker',
    details: 'Re-reads and fully validates the config file, then applies its [[sites]] to every worker and\nanswers once all acknowledged: {"status":"ok"}, with "warnings" naming static keys that need a\nrestart, or {"status":"error","message":...} naming file, line and key; then nothing changed.\nReloads from sockets and SIGHUP run one at a time.',
    run: async (c) => reloadReply(await c.backend.reload()),
  },
  {
    usage: 'restart',
    level: 'admin',
    description: 'replace the workers one by one to apply static settings',
    details: 'Re-reads the config file and replaces each worker with a new one started from it (listeners,\nworker count, logging); each old worker drains only once its replacement listens, so no request\nfails. Replies like reload. The admin sockets change only when the proxy process restarts.',
    run: async (c) => reloadReply(await c.backend.restart()),
  },
];

const ROUTING_HELP: readonly (CommandSpec & { level: AdminLevel })[] = [
  { usage: '@<relative pid>', level: 'user', description: 'send a command to the <relative pid> process' },
  { usage: '@!<pid>', level: 'user', description: 'send a command to the <pid> process' },
  { usage: '@master', level: 'user', description: 'send a command to the master process' },
];

function commandsAt(level: AdminLevel): MasterCommand[] {
  return MASTER_COMMANDS.filter((c) => levelAllows(level, c.level));
}

function helpFor(level: AdminLevel, query: string): string {
  if (query === '') return formatHelp([...commandsAt(level), ...ROUTING_HELP]);
  // Any command is described, whatever the level: the text says which level it needs.
  return formatCommandHelp([...MASTER_COMMANDS, ...ROUTING_HELP], query) ?? unknownCommandReply(query);
}

/** The unknown-command reply; a person at a prompt also gets the closest commands. */
function unknownCommand(command: string, session: CliSession, known: readonly CommandSpec[]): string {
  const reply = unknownCommandReply(command);
  return session.interactive ? reply + formatSuggestions(suggestCommands(known, command)) : reply;
}

/** Runs a command on a worker, bounded so a hung worker cannot hold the connection forever. */
async function askWorker(context: CliContext, session: CliSession, target: Exclude<Target, { kind: 'master' }>, command: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(errorReply(`process ${describeTarget(target)} did not answer within ${context.limits.workerReplyTimeoutMs} ms`)),
      context.limits.workerReplyTimeoutMs,
    );
  });
  try {
    const reply = await Promise.race([context.backend.sendToWorker(target, command), timeout]);
    return reply === unknownCommandReply(command) ? unknownCommand(command, session, WORKER_COMMANDS) : reply;
  } catch (err) {
    context.logger.warn({ event: 'admin_worker_command_failed', target: describeTarget(target), err }, 'routed admin command failed');
    return errorReply(describeFailure(err));
  } finally {
    clearTimeout(timer);
  }
}

async function runOnMaster(command: string, context: CliContext, session: CliSession): Promise<string> {
  const found = findCommand(MASTER_COMMANDS, command);
  if (found === undefined) return unknownCommand(command, session, commandsAt(session.level));
  const { entry, args } = found;
  if (!levelAllows(session.level, entry.level)) {
    return errorReply(`permission denied: "${command}" needs level ${entry.level}, this socket is level ${session.level}`);
  }
  context.logger.debug({ event: 'admin_command', command, level: session.level }, 'admin command');
  return entry.run(context, session, args);
}

/** `prompt` and `quit` act on the connection itself, whatever the default target is. */
const CONNECTION_COMMANDS = new Set(['prompt', 'quit']);

async function runSegment(segment: string, context: CliContext, session: CliSession): Promise<string> {
  const [first = '', ...rest] = segment.split(' ');
  let target = session.target;
  let command = segment;
  if (first.startsWith('@')) {
    const named = parseTarget(first);
    if (named === undefined) return errorReply(`no such process: ${first}`);
    target = named;
    command = rest.join(' ');
  }
  if (CONNECTION_COMMANDS.has(command)) return runOnMaster(command, context, session);
  const where = resolveTarget(target, context.backend.processes());
  if (where.kind === 'error') return errorReply(where.message);
  if (command === '') {
    // A bare routing word: later commands on this connection go there.
    session.target = target;
    return '';
  }
  return where.kind === 'master' ? runOnMaster(command, context, session) : askWorker(context, session, where.target, command);
}

/** The whole reply to one decoded command line, commands answered in order. */
export async function runCommandLine(line: string, context: CliContext, session: CliSession): Promise<string> {
  const segments = line.split(';').map(normalizeCommand).filter((s) => s !== '');
  if (segments.length === 0) return session.interactive ? '' : errorReply(INVALID_INPUT);
  let output = '';
  for (const segment of segments) {
    try {
      output += await runSegment(segment, context, session);
    } catch (err) {
      // The backend failed in a way it did not describe: the details go to the log only.
      context.logger.error({ event: 'admin_command_failed', command: segment, err }, 'admin command failed');
      output += errorReply(describeFailure(err));
    }
    if (session.quit) break;
  }
  return output;
}
