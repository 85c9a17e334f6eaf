// Where every process's log lines go: stdout, written so that a slow, full or dead stdout never
// holds anything up. pino's default destination (sonic-boom, asynchronous) queues lines without
// bound while stdout is slower than the traffic, and at exit writes the whole queue
// synchronously, retrying every 100 ms forever on EPIPE or a pipe nobody reads: a worker with a
// backlog hung in its exit handler, where no signal could reach it (issue 18).
//
// Here each line is one non-blocking write(2) (whole lines of up to PIPE_BUF bytes never
// interleave with another process's lines in a shared pipe). A line that does not fit waits in a
// bounded backlog that is retried on a timer; past the bound, lines are dropped and counted, and
// a `log_lines_dropped` line says how many. A broken stdout (EPIPE, EBADF) drops everything from
// then on. Nothing here ever waits for stdout except flushWithin(), and that only until the
// deadline its caller gives.
import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Bytes of access-log lines held for a stdout that is behind; past this they are dropped. */
export const MAX_LOG_BACKLOG_BYTES = 1024 * 1024;
/** Bytes of other lines (draining, errors, shutdown, the drop report) held, on top of that. */
export const LOG_RESERVE_BYTES = 64 * 1024;
/** How often a backlog is retried while stdout is full. */
const LOG_RETRY_INTERVAL_MS = 10;
/** While lines are being dropped, a `log_lines_dropped` line is queued at most this often. */
const LOG_DROP_REPORT_INTERVAL_MS = 1_000;

const ACCESS_EVENT = '"event":"access"';

/** Lines waiting for stdout, oldest first, with their total size. */
class Backlog {
  readonly lines: Buffer[] = [];
  bytes = 0;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  /** False when the line does not fit. */
  push(line: Buffer): boolean {
    if (this.bytes + line.length > this.limit) return false;
    this.lines.push(line);
    this.bytes += line.length;
    return true;
  }

  shift(): Buffer | undefined {
    const line = this.lines.shift();
    if (line) this.bytes -= line.length;
    return line;
  }

  clear(): void {
    this.lines.length = 0;
    this.bytes = 0;
  }
}

/** Lines in a chunk (one at least, for a line cut short): what a drop of it costs the log. */
function countLines(text: Buffer | string): number {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
  return Math.max(1, lines);
}

/** `bytes` itself, or a copy when they are borrowed from a buffer its owner reuses. */
function kept(bytes: Buffer, borrowed: boolean): Buffer {
  return borrowed ? Buffer.from(bytes) : bytes;
}

interface LogWriterCounts {
  /** Lines dropped since the process started (a full backlog, a broken stdout, or exit). */
  dropped: number;
  /** Bytes waiting for stdout right now. */
  backlogBytes: number;
}

export class LogWriter {
  readonly #fd: number;
  /**
   * Lines other than access-log lines go out before queued access-log lines: an operator sees
   * "draining" or an error while the access log is still catching up. Order within each kind
   * is kept, and every line carries its own timestamp.
   */
  readonly #control = new Backlog(LOG_RESERVE_BYTES);
  readonly #access = new Backlog(MAX_LOG_BACKLOG_BYTES);
  /** The rest of a line stdout took only part of; it goes out before anything else. */
  #partial: Buffer | undefined;
  #droppedTotal = 0;
  /** Dropped since the last report line. */
  #droppedUnreported = 0;
  #broken = false;
  #retry: NodeJS.Timeout | undefined;
  #reportTimer: NodeJS.Timeout | undefined;
  #belowLimit: (() => void)[] = [];
  /** Writes the "lines dropped" report line; set by the logger that owns this writer. */
  reportDrops: ((dropped: number, total: number) => void) | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  get counts(): LogWriterCounts {
    return { dropped: this.#droppedTotal, backlogBytes: this.#control.bytes + this.#access.bytes + (this.#partial?.length ?? 0) };
  }

  /**
   * pino calls this with one serialized line; the access log with a batch of lines (newlines
   * included) in a buffer it reuses as soon as this returns: written as they are, and only what
   * stdout could not take at once is copied to wait (or dropped and counted).
   */
  write(line: string | Buffer): void {
    if (this.#broken) return this.#drop(countLines(line));
    if (this.#idle()) {
      const written = this.#tryWrite(line);
      if (written === Buffer.byteLength(line)) return;
      if (written > 0) {
        this.#partial = Buffer.from(line).subarray(written);
        return this.#scheduleRetry();
      }
      if (this.#broken) return this.#drop(countLines(line));
    }
    const bytes = Buffer.from(line);
    if (!(bytes.includes(ACCESS_EVENT) ? this.#access : this.#control).push(bytes)) return this.#drop(countLines(bytes));
    this.#scheduleRetry();
  }

  /**
   * Queues whole lines another process wrote (a worker's output, relayed by the master). They
   * wait with the access-log lines; false means the backlog is over its limit and the caller
   * should stop reading until whenBelowLimit() resolves, so that the loss happens, counted, in
   * the process that wrote the lines. `borrowed`: the caller reuses `lines` once this returns,
   * so what has to wait is copied.
   */
  writeBlock(lines: Buffer, borrowed: boolean): boolean {
    if (this.#broken) {
      this.#drop(countLines(lines));
      return true;
    }
    if (this.#idle()) {
      const written = this.#tryWrite(lines);
      if (written === lines.length) return true;
      if (this.#broken) return this.writeBlock(lines, borrowed);
      if (written > 0) {
        this.#partial = kept(lines.subarray(written), borrowed);
        this.#scheduleRetry();
        return true;
      }
    }
    const queued = kept(lines, borrowed);
    this.#access.lines.push(queued);
    this.#access.bytes += queued.length;
    this.#scheduleRetry();
    return this.#access.bytes < this.#access.limit;
  }

  /** Resolves once the access backlog is under half its limit (or stdout broke). */
  whenBelowLimit(): Promise<void> {
    return new Promise((resolve) => this.#belowLimit.push(resolve));
  }

  /** pino's logger.flush() lands here: one non-blocking pass over the backlog. */
  flush(done?: () => void): void {
    this.#drainBacklog();
    done?.();
  }

  /**
   * Writes the backlog until it is empty or `timeoutMs` has passed; never blocks the event loop.
   * What is still waiting at the deadline is dropped and counted.
   */
  async flushWithin(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    this.#report();
    this.#drainBacklog();
    while (!this.#idle() && !this.#broken && performance.now() < deadline) {
      await sleep(LOG_RETRY_INTERVAL_MS);
      this.#drainBacklog();
    }
    this.#abandonBacklog();
    // One last try, without waiting, to say how many lines the deadline cost.
    this.#report();
    this.#drainBacklog();
  }

  #idle(): boolean {
    return this.#partial === undefined && this.#control.lines.length === 0 && this.#access.lines.length === 0;
  }

  /** Bytes written, or -1 when stdout is full (EAGAIN) or broken (sets #broken). */
  #tryWrite(data: string | Buffer): number {
    try {
      return typeof data === 'string' ? writeSync(this.#fd, data) : writeSync(this.#fd, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') this.#broken = true;
      return -1;
    }
  }

  #scheduleRetry(): void {
    this.#retry ??= setTimeout(this.#onRetry, LOG_RETRY_INTERVAL_MS).unref();
  }

  readonly #onRetry = (): void => {
    this.#retry = undefined;
    this.#drainBacklog();
    if (!this.#idle()) this.#scheduleRetry();
    if (this.#belowLimit.length > 0 && (this.#access.bytes < this.#access.limit / 2 || this.#broken)) {
      const waiting = this.#belowLimit;
      this.#belowLimit = [];
      for (const resolve of waiting) resolve();
    }
  };

  /** Writes queued lines until the backlog is empty or stdout is full again. */
  #drainBacklog(): void {
    while (!this.#idle()) {
      const next = this.#partial ?? this.#control.shift() ?? (this.#access.shift() as Buffer);
      this.#partial = undefined;
      const written = this.#tryWrite(next);
      if (this.#broken) return this.#abandonBacklog(next);
      if (written < next.length) {
        // What is left of this line goes first next time, so no line is ever split by another.
        this.#partial = next.subarray(Math.max(0, written));
        return;
      }
    }
  }

  #abandonBacklog(inHand?: Buffer): void {
    const partial = this.#partial ?? inHand;
    this.#partial = undefined;
    let lines = partial ? countLines(partial) : 0;
    for (const queued of [...this.#control.lines, ...this.#access.lines]) lines += countLines(queued);
    this.#control.clear();
    this.#access.clear();
    this.#drop(lines);
  }

  #drop(count: number): void {
    if (count === 0) return;
    this.#droppedTotal += count;
    this.#droppedUnreported += count;
    this.#reportTimer ??= setTimeout(() => this.#report(), LOG_DROP_REPORT_INTERVAL_MS).unref();
  }

  /** Queues the drop report line (a control line, so it goes out before queued access lines). */
  #report(): void {
    if (this.#reportTimer) clearTimeout(this.#reportTimer);
    this.#reportTimer = undefined;
    if (this.#droppedUnreported === 0 || this.#broken) return;
    const dropped = this.#droppedUnreported;
    this.#droppedUnreported = 0;
    this.reportDrops?.(dropped, this.#droppedTotal);
  }
}

/**
 * A descriptor for writing to `fd` (1 or 2) that never blocks. A pipe is reopened through /proc
 * with O_NONBLOCK, which gives this process its own open file description. A socket cannot be
 * reopened: libuv sets it non-blocking when process.stdout/stderr is first used. That flag lives
 * on a description other processes may share, and Node puts back the flags it found at start
 * whenever one of them exits; so the master never lets its workers inherit its stdout or stderr
 * (src/runtime/worker-output.ts relays theirs). Files and terminals are written as they are.
 */
export function nonBlocking(fd: 1 | 2): number {
  let stats;
  try {
    stats = fstatSync(fd);
  } catch {
    return fd; // not open: every write fails with EBADF and is counted as dropped
  }
  if (stats.isFIFO()) {
    try {
      return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND);
    } catch {
      // No /proc, or the reader is already gone (ENXIO): fall back to the shared description.
    }
  }
  if (stats.isFIFO() || stats.isSocket()) void (fd === 1 ? process.stdout : process.stderr);
  return fd;
}
