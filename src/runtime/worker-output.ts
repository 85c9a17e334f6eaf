// The master relays what its workers write to stdout and stderr. Workers never share the
// master's descriptors: a non-blocking flag on a shared description is undone whenever one
// process sharing it forks or exits (libuv and Node restore the flags of stdio they found), and
// one blocking write to a full pipe then holds the master's event loop (issue 18). Each worker
// writes to its own pipe; the master passes on whole lines only, so lines of different workers
// never interleave, and stops reading a worker while its own stdout backlog is over the limit,
// so a slow stdout makes the worker drop (and count) lines rather than the master hold them.
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogWriter } from '../log-writer.ts';

/** A worker's output without a newline for this long is passed on as it is. */
export const MAX_RELAYED_LINE_BYTES = 64 * 1024;

export class WorkerOutputRelay {
  readonly #stdout: LogWriter;
  readonly #stderr: LogWriter;
  readonly #open = new Set<Promise<void>>();

  constructor(stdout: LogWriter, stderr: LogWriter) {
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** Relays a forked worker's stdout and stderr (node:cluster with `silent: true`). */
  attach(stdout: Readable | null, stderr: Readable | null): void {
    if (stdout) this.#relay(stdout, this.#stdout);
    if (stderr) this.#relay(stderr, this.#stderr);
  }

  /** Resolves once every worker stream has ended, or after `timeoutMs`. */
  async ended(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.all(this.#open), sleep(timeoutMs)]);
  }

  #relay(stream: Readable, writer: LogWriter): void {
    let rest: Buffer | undefined;
    const done = new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.on('error', () => undefined); // a worker killed mid-write; what it wrote is in
    });
    this.#open.add(done);
    void done.then(() => this.#open.delete(done));
    stream.on('data', (chunk: Buffer) => {
      const data = rest ? Buffer.concat([rest, chunk]) : chunk;
      const end = data.length > MAX_RELAYED_LINE_BYTES ? data.length : data.lastIndexOf(0x0a) + 1;
      rest = end < data.length ? data.subarray(end) : undefined;
      if (end === 0 || writer.writeBlock(data.subarray(0, end))) return;
      stream.pause();
      void writer.whenBelowLimit().then(() => stream.resume());
    });
    stream.once('end', () => {
      if (rest) writer.writeBlock(Buffer.concat([rest, Buffer.from('\n')]));
    });
  }
}
