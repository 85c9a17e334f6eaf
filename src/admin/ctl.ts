// `reverse-proxy ctl`: one command to the admin socket and its reply on stdout, or an
// interactive prompt. It is the pod's readiness probe (exec, 1 s timeout, every 10 s), so its
// import graph is kept to node: built-ins and a few small local modules — no pino, no zod.
import { parseArgs } from 'node:util';
import { ReverseProxyError, UsageError } from '../errors.ts';
import { DEFAULT_ADMIN_SOCKET_PATH } from '../config/defaults.ts';
import { checkServerOwner, sendCommand, SOCKET_OWNER_ENV, SOCKET_OWNER_FLAG } from './client.ts';
import { parseSocketOwner } from './socket-owner.ts';

const CTL_SOCKET_ENV = 'REVERSE_PROXY_SOCKET';
/** Long enough for a reload that waits behind another one; a probe is cut short by kubelet anyway. */
const CTL_DEFAULT_TIMEOUT_MS = 30_000;

export const EXIT_OK = 0;
const EXIT_ERROR_REPLY = 1;
const EXIT_UNREACHABLE = 2;

const USAGE = `usage: reverse-proxy ctl [--socket PATH] [--socket-owner UID|NAME] [--timeout SECONDS] [COMMAND...]

Sends COMMAND to the admin socket and prints the reply. Without COMMAND, runs the commands
piped in, one per line (echo 'show proc' | reverse-proxy ctl), or on a terminal opens the
interactive master CLI with line editing and history ("help", "help <command>"; leave with
"quit" or Ctrl-D).

  --socket PATH       admin socket (default: $${CTL_SOCKET_ENV}, else ${DEFAULT_ADMIN_SOCKET_PATH})
  --socket-owner UID|NAME
                      also accept a socket owned by this user (default: only a socket owned
                      by this user or root is talked to; env $${SOCKET_OWNER_ENV})
  --timeout SECONDS   give up waiting for the reply after this long (default ${CTL_DEFAULT_TIMEOUT_MS / 1000})
  -h, --help          show this help

Exit status: 0 the reply is ok (or a text reply was received), 1 the reply is an error (piped:
any command's), 2 the socket could not be reached, is owned by another user, the connection
was lost, or the arguments are wrong.

Examples:
  reverse-proxy ctl status
  reverse-proxy ctl reload
  reverse-proxy ctl show proc
  reverse-proxy ctl '@1 show info; @2 show info'
  printf '@1\nshow info\n' | reverse-proxy ctl
`;

interface CtlArgs {
  socketPath: string;
  /** A uid besides our own and root's whose socket we accept. */
  expectedOwner: number | undefined;
  timeoutMs: number;
  command: string | undefined;
  help: boolean;
}

function parseCtlArgs(argv: string[]): CtlArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { socket: { type: 'string', short: 's' }, 'socket-owner': { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  let timeoutMs = CTL_DEFAULT_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--timeout needs a number of seconds greater than 0');
    timeoutMs = Math.ceil(seconds * 1000);
  }
  const command = positionals.length > 0 ? positionals.join(' ') : undefined;
  if (command !== undefined && /[\r\n]/.test(command)) throw new UsageError('the command must be one line; separate several commands with ";"');
  const owner = values['socket-owner'] || process.env[SOCKET_OWNER_ENV];
  return {
    socketPath: values.socket || process.env[CTL_SOCKET_ENV] || DEFAULT_ADMIN_SOCKET_PATH,
    expectedOwner: owner ? parseSocketOwner(SOCKET_OWNER_FLAG, owner) : undefined,
    timeoutMs,
    command,
    help: values.help === true,
  };
}

/** 1 when any JSON line of the reply is an error, else 0: text replies (show proc) count as success. */
export function exitCodeForReply(reply: string): number {
  for (const line of reply.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && (parsed as { status?: unknown }).status === 'error') return EXIT_ERROR_REPLY;
    } catch {
      // A text line that happens to start with a brace: not a status reply.
    }
  }
  return EXIT_OK;
}

export async function ctlMain(argv: string[]): Promise<number> {
  let args: CtlArgs;
  try {
    args = parseCtlArgs(argv);
  } catch (err) {
    process.stderr.write(`reverse-proxy ctl: ${(err as Error).message}\n${USAGE}`);
    return EXIT_UNREACHABLE;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  try {
    checkServerOwner(args.socketPath, args.expectedOwner);
  } catch (err) {
    process.stderr.write(`reverse-proxy ctl: ${(err as Error).message}\n`);
    return EXIT_UNREACHABLE;
  }
  if (args.command === undefined) {
    // Loaded only here: the readiness probe (`ctl status`) never needs it.
    const { runInteractiveSession, runPipedSession } = await import('./ctl-session.ts');
    try {
      return process.stdin.isTTY ? await runInteractiveSession(args.socketPath, args.timeoutMs) : await runPipedSession(args.socketPath, args.timeoutMs, exitCodeForReply);
    } catch (err) {
      process.stderr.write(`reverse-proxy ctl: ${err instanceof ReverseProxyError ? err.message : (err as Error).message}\n`);
      return EXIT_UNREACHABLE;
    }
  }
  let reply: string;
  try {
    reply = await sendCommand(args.socketPath, args.command, args.timeoutMs, args.expectedOwner);
  } catch (err) {
    const message = err instanceof ReverseProxyError ? err.message : `cannot reach admin socket ${args.socketPath}`;
    process.stderr.write(`reverse-proxy ctl: ${message}\n`);
    return EXIT_UNREACHABLE;
  }
  if (reply === '') {
    process.stderr.write(`reverse-proxy ctl: admin socket ${args.socketPath} closed the connection without a reply\n`);
    return EXIT_UNREACHABLE;
  }
  process.stdout.write(reply);
  if (UNKNOWN_COMMAND_REPLY.test(reply)) await printSuggestions(args.socketPath, args.timeoutMs, args.command);
  return exitCodeForReply(reply);
}

/** The whole reply is seed 000's unknown-command error (a `;` chain is left alone). */
const UNKNOWN_COMMAND_REPLY = /^\{"status":"error","message":"unknown command: [^\n]*"\}\n$/;

/**
 * A person who mistyped a command gets the closest ones on stderr, as at the prompt; the reply
 * on stdout stays the seed's single line. Asked on a prompt-mode connection, where the server
 * suggests: an unknown command has no effect, so sending it again is harmless.
 */
async function printSuggestions(socketPath: string, timeoutMs: number, command: string): Promise<void> {
  const { suggestionsFor } = await import('./ctl-session.ts');
  try {
    process.stderr.write(await suggestionsFor(socketPath, timeoutMs, command));
  } catch {
    // Suggestions are a courtesy: the reply and the exit status already say what went wrong.
  }
}
