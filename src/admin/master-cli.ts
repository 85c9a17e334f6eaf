// The master CLI: one command line in, the text to send back out. A line may hold several
// commands separated by `;`, each optionally prefixed with a routing word (`@1 show info`);
// a bare routing word changes where the following commands go. The seed 000 commands keep
// their exact JSON replies; the rest follow HAProxy's master CLI.
import type { AdminLevel } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { MasterBackend, Target } from './backend.ts';
import { formatHelp, formatInfo, formatInfoJson, formatProcessTable, formatSocketTable, type HelpEntry } from './format.ts';
import { levelAllows } from './levels.ts';
import type { AdminLimits } from './limits.ts';
import { normalizeCommand } from './line.ts';
import { INVALID_INPUT, describeFailure, errorReply, reloadReply, statusReply, unknownCommandReply } from './reply.ts';
import { describeTarget, parseTarget, resolveTarget } from './target.ts';

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

interface MasterCommand extends HelpEntry {
  level: AdminLevel;
  run(context: CliContext, session: CliSession): string | Promise<string>;
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
async function showSitesOfFirstWorker(context: CliContext): Promise<string> {
  const worker = context.backend
    .processes()
    .filter((p) => p.type === 'worker' && p.respawningInMs === undefined)
    .sort((a, b) => a.relativePid - b.relativePid)[0];
  if (worker === undefined) return errorReply('no live worker to answer show sites');
  return askWorker(context, { kind: 'relative', relativePid: worker.relativePid }, 'show sites');
}

const MASTER_COMMANDS: readonly MasterCommand[] = [
  { usage: 'help', level: 'user', description: 'list the commands valid at this level', run: (_c, s) => helpFor(s.level) },
  { usage: 'prompt', level: 'user', description: 'toggle interactive mode with prompt', run: togglePrompt },
  {
    usage: 'quit',
    level: 'user',
    description: 'disconnect',
    run: (_c, s) => {
      s.quit = true;
      return '';
    },
  },
  { usage: 'status', level: 'user', description: 'readiness as JSON: uptime and sites, an error while draining', run: (c) => statusReply(c.backend.status()) },
  { usage: 'show proc', level: 'user', description: 'show processes status', run: (c) => formatProcessTable(c.backend.processes(), Date.now()) },
  { usage: 'show info', level: 'user', description: 'report information about the master process', run: (c) => formatInfo(c.backend.info()) },
  { usage: 'show info json', level: 'user', description: 'the same as one JSON object', run: (c) => formatInfoJson(c.backend.info()) },
  { usage: 'show cli sockets', level: 'user', description: 'dump list of cli sockets', run: (c) => formatSocketTable(c.backend.sockets()) },
  { usage: 'show sites', level: 'user', description: 'routing table of the first live worker', run: showSitesOfFirstWorker },
  { usage: 'reload', level: 'operator', description: 're-read the config file and apply it to every worker', run: async (c) => reloadReply(await c.backend.reload()) },
  { usage: 'restart', level: 'admin', description: 'replace the workers one by one to apply static settings', run: async (c) => reloadReply(await c.backend.restart()) },
];

const ROUTING_HELP: readonly (HelpEntry & { level: AdminLevel })[] = [
  { usage: '@<relative pid>', level: 'user', description: 'send a command to the <relative pid> process' },
  { usage: '@!<pid>', level: 'user', description: 'send a command to the <pid> process' },
  { usage: '@master', level: 'user', description: 'send a command to the master process' },
];

const COMMANDS_BY_NAME = new Map(MASTER_COMMANDS.map((c) => [c.usage, c]));

function helpFor(level: AdminLevel): string {
  return formatHelp([...MASTER_COMMANDS, ...ROUTING_HELP].filter((c) => levelAllows(level, c.level)));
}

/** Runs a command on a worker, bounded so a hung worker cannot hold the connection forever. */
async function askWorker(context: CliContext, target: Exclude<Target, { kind: 'master' }>, command: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(errorReply(`process ${describeTarget(target)} did not answer within ${context.limits.workerReplyTimeoutMs} ms`)),
      context.limits.workerReplyTimeoutMs,
    );
  });
  try {
    return await Promise.race([context.backend.sendToWorker(target, command), timeout]);
  } catch (err) {
    context.logger.warn({ event: 'admin_worker_command_failed', target: describeTarget(target), err }, 'routed admin command failed');
    return errorReply(describeFailure(err));
  } finally {
    clearTimeout(timer);
  }
}

async function runOnMaster(command: string, context: CliContext, session: CliSession): Promise<string> {
  const entry = COMMANDS_BY_NAME.get(command);
  if (entry === undefined) return unknownCommandReply(command);
  if (!levelAllows(session.level, entry.level)) {
    return errorReply(`permission denied: "${command}" needs level ${entry.level}, this socket is level ${session.level}`);
  }
  context.logger.debug({ event: 'admin_command', command, level: session.level }, 'admin command');
  return entry.run(context, session);
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
  return where.kind === 'master' ? runOnMaster(command, context, session) : askWorker(context, where.target, command);
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
