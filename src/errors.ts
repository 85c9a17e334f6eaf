// Every failure the proxy reports to a person or a program is one of these classes.
// `code` is stable and machine-readable (logs, admin replies and tests match on it);
// `message` is written for the operator who has to act on it, and never carries a stack
// trace or internal detail.

export class ReverseProxyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found in a config file: where it is and what is wrong. */
export interface ConfigProblem {
  /** Dotted key path such as `sites[1].upstream`; empty for the whole document. */
  key: string;
  /** 1-based line in the file, when it can be located. */
  line?: number;
  message: string;
}

/** The config file could not be read at all (missing, unreadable, a directory). */
export class ConfigReadError extends ReverseProxyError {
  readonly file: string;
  constructor(file: string, message: string, options?: ErrorOptions) {
    super('ERR_CONFIG_READ', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** The file kept changing while it was being read; a half-written file is never loaded. */
export class ConfigUnstableError extends ReverseProxyError {
  constructor(file: string) {
    super('ERR_CONFIG_UNSTABLE', `${file}: config file changed during read; try again once writes have finished`);
  }
}

/** Files a ConfigFilesUnstableError names in its message; the rest are counted, to keep a reload reply one short line. */
const NAMED_CHANGED_FILES = 3;

/**
 * The config and the files it references never read the same twice in a row: each file held
 * still while read, but the set changed between passes (a Secret's `..data` swapped mid-load),
 * so no consistent snapshot was taken and nothing was loaded.
 */
export class ConfigFilesUnstableError extends ReverseProxyError {
  readonly file: string;
  /** The files whose bytes differed between the two passes of the last attempt. */
  readonly changed: readonly string[];
  constructor(file: string, changed: readonly string[], attempts: number) {
    const named = changed.length > NAMED_CHANGED_FILES ? [...changed.slice(0, NAMED_CHANGED_FILES), `${changed.length - NAMED_CHANGED_FILES} more`] : changed;
    super('ERR_CONFIG_FILES_UNSTABLE', `${file}: the config and the files it references kept changing while read (${named.join(', ')} differed between two reads, ${attempts} attempts); try again once the update has finished`);
    this.file = file;
    this.changed = changed;
  }
}

/** The file was read but is not valid TOML or not a valid configuration. */
export class ConfigInvalidError extends ReverseProxyError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];
  constructor(file: string, problems: readonly ConfigProblem[]) {
    super('ERR_CONFIG_INVALID', problems.map((p) => formatProblem(file, p)).join('; '));
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblem(file: string, problem: ConfigProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`;
  return problem.key ? `${where}: ${problem.key}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** The admin socket path cannot be used safely; the proxy refuses to touch it. */
export class AdminSocketUnsafeError extends ReverseProxyError {
  constructor(path: string, reason: string) {
    super('ERR_ADMIN_SOCKET_UNSAFE', `admin socket ${path}: ${reason}`);
  }
}

/** `ctl` or the reloader could not reach the admin socket. */
export class AdminUnreachableError extends ReverseProxyError {
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super('ERR_ADMIN_UNREACHABLE', `cannot reach admin socket ${path}: ${reason}`, options);
  }
}

/**
 * The admin socket file belongs to a user who is neither this process's user nor root: another
 * local user bound the path first. Neither the proxy nor a client talks to it.
 */
export class AdminSocketOwnerError extends ReverseProxyError {
  readonly ownerUid: number;
  constructor(path: string, ownerUid: number, owner: string, consequence: string) {
    super('ERR_ADMIN_SOCKET_OWNER', `admin socket ${path} is owned by ${owner}, not by this user (uid ${process.getuid?.() ?? 'unknown'}) or root; ${consequence}`);
    this.ownerUid = ownerUid;
  }
}

/** A worker did not apply a new config generation (it failed, died or timed out). */
export class WorkerApplyError extends ReverseProxyError {
  constructor(relativePid: number, reason: string) {
    super('ERR_WORKER_APPLY', `worker ${relativePid} did not apply the new config: ${reason}`);
  }
}

/** A replacement worker did not get listening (unusable TLS files, port in use, timeout). */
export class WorkerStartError extends ReverseProxyError {
  constructor(relativePid: number, reason: string) {
    super('ERR_WORKER_START', `worker ${relativePid} could not start: ${reason}`);
  }
}

/** A command routed to a worker found no worker to answer it, or no answer in time. */
export class WorkerUnavailableError extends ReverseProxyError {
  constructor(target: string, reason: string) {
    super('ERR_WORKER_UNAVAILABLE', `${target}: ${reason}`);
  }
}

/** The master could not take over a forked worker's stdout or stderr pipe to relay its lines. */
export class WorkerOutputError extends ReverseProxyError {
  constructor(reason: string) {
    super('ERR_WORKER_OUTPUT', `cannot relay a worker's output: ${reason}`);
  }
}

/** A reload did not finish within its deadline; the running config keeps serving. */
export class ReloadTimeoutError extends ReverseProxyError {
  constructor(timeoutMs: number) {
    super('ERR_RELOAD_TIMEOUT', `reload did not finish within ${timeoutMs / 1000} s; the running config keeps serving (see the proxy log)`);
  }
}

/** `serve` could not get its workers listening (port in use, TLS file unreadable...). */
export class StartupError extends ReverseProxyError {
  constructor(reason: string) {
    super('ERR_STARTUP', `workers failed to start: ${reason}`);
  }
}

/** A command-line usage mistake (unknown flag, missing value). */
export class UsageError extends ReverseProxyError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** The admin socket answered, but not with the reply the protocol promises. */
export class AdminReplyError extends ReverseProxyError {
  constructor(command: string, reply: string) {
    const shown = reply.length > 200 ? `${reply.slice(0, 200)}…` : reply;
    super('ERR_ADMIN_REPLY', `unexpected reply to "${command}": ${JSON.stringify(shown)}`);
  }
}

/** The upstream could not be reached or broke the exchange before answering (→ 502). */
export class UpstreamUnreachableError extends ReverseProxyError {
  readonly upstream: string;
  constructor(upstream: string, reason: string, options?: ErrorOptions) {
    super('ERR_UPSTREAM_UNREACHABLE', `upstream ${upstream} unreachable: ${reason}`, options);
    this.upstream = upstream;
  }
}

/** The upstream did not accept the connection, or did not answer, in time (→ 504). */
export class UpstreamTimeoutError extends ReverseProxyError {
  readonly upstream: string;
  constructor(upstream: string, reason: string, options?: ErrorOptions) {
    super('ERR_UPSTREAM_TIMEOUT', `upstream ${upstream} timed out: ${reason}`, options);
    this.upstream = upstream;
  }
}

/** A request body grew past the site's `body_limit_bytes` while streaming (→ 413). */
export class BodyLimitExceededError extends ReverseProxyError {
  constructor(limitBytes: number) {
    super('ERR_BODY_LIMIT', `request body exceeds the limit of ${limitBytes} bytes`);
  }
}

/** A `[[listeners]]` entry could not be served (port in use, unreadable TLS files). */
export class ListenerError extends ReverseProxyError {
  constructor(listener: string, reason: string, options?: ErrorOptions) {
    super('ERR_LISTENER', `listener ${listener}: ${reason}`, options);
  }
}

/** An errno failure in words: `address already in use (EADDRINUSE)`, or the bare code if `words` lacks it. */
export function describeErrno(err: NodeJS.ErrnoException, words: Readonly<Record<string, string>>): string {
  const code = err.code ?? err.message;
  return words[code] === undefined ? code : `${words[code]} (${code})`;
}

/**
 * A failure on an upstream connection below what the client is told (timeouts, a refused or
 * malformed response, an early close). Its `code` decides the client's 502 or 504 and whether
 * another attempt is safe (src/proxy/upstream-errors.ts); socket errors keep their errno code.
 */
export class UpstreamIoError extends Error {
  readonly code: string;
  constructor(code: UpstreamIoCode, message: string) {
    super(message);
    this.name = 'UpstreamIoError';
    this.code = code;
  }
}

export type UpstreamIoCode =
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_QUEUE_TIMEOUT'
  | 'ERR_RESPONSE_TIMEOUT'
  | 'ERR_RESPONSE_INVALID'
  | 'ERR_UPSTREAM_CLOSED'
  | 'ERR_UPSTREAM_RESET'
  | 'ERR_POOL_CLOSED';
