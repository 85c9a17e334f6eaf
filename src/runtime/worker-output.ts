// The master relays what its workers write to stdout and stderr. Workers never share the
// master's descriptors: a non-blocking flag on a shared description is undone whenever one
// process sharing it forks or exits (libuv and Node restore the flags of stdio they found), and
// one blocking write to a full pipe then holds the master's event loop (issue 18). Each worker
// writes to its own pipe; the master passes on whole lines only, so lines of different workers
// never interleave, and stops reading a worker while its own stdout backlog is over the limit,
// so a slow stdout makes the worker drop (and count) lines rather than the master hold them.
//
// Every worker pipe is read into one buffer of the master's (net.Socket's `onread`), as client
// sockets are in a worker (src/proxy/http1/client-reads.ts): left to itself, Node gives each
// read a fresh 64 KiB buffer, and under access-log traffic the master spent most of its relaying
// time faulting in and zeroing those pages (bench/findings.md). A read is handled before the next
// one anywhere, so one buffer serves every pipe; what has to outlive a read (a line cut short,
// lines stdout could not take yet) is copied. Node's child_process gives the pipe to a
// net.Socket that is already reading, so its handle is stopped and moved into a new net.Socket
// made with `onread`: two fields Node does not document (`_handle`, and the handle's
// `readStop()`), which test/worker-output.test.ts fails on if the pinned Node changes them.
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogWriter } from '../log-writer.ts';
import { WorkerOutputError } from '../errors.ts';

/** A worker's output with no newline in this many bytes is passed on as it is. */
export const MAX_RELAYED_LINE_BYTES = 64 * 1024;
/** Bytes read from a worker's pipe at a time (Node's own read size for pipes). */
export const WORKER_OUTPUT_READ_BYTES = 64 * 1024;

/** The fields of child_process's pipe socket that moving its handle touches. */
interface PipeSocket {
  _handle: { readStop(): number; reading: boolean } | null;
}

export class WorkerOutputRelay {
  readonly #stdout: LogWriter;
  readonly #stderr: LogWriter;
  readonly #open = new Set<Promise<void>>();
  readonly #readBuffer = Buffer.allocUnsafeSlow(WORKER_OUTPUT_READ_BYTES);

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

  #relay(piped: Readable, writer: LogWriter): void {
    let rest: Buffer | undefined;
    const buffer = this.#readBuffer;
    const onChunk = (chunk: Buffer): void => {
      const data = rest ? Buffer.concat([rest, chunk]) : chunk;
      // Up to the last newline: a read that completes a held line mostly ends inside another,
      // and passing that on would let the master's own lines or another worker's land in it.
      const lineEnd = data.lastIndexOf(0x0a) + 1;
      const end = lineEnd === 0 && data.length > MAX_RELAYED_LINE_BYTES ? data.length : lineEnd;
      // A line cut short waits for its end; the read buffer is reused by the next read.
      rest = end === data.length ? undefined : data === chunk ? Buffer.from(data.subarray(end)) : data.subarray(end);
      if (end === 0 || writer.writeBlock(data.subarray(0, end), data === chunk)) return;
      stream.pause();
      void writer.whenBelowLimit().then(() => stream.resume());
    };
    const stream = ownBufferStream(piped, buffer, onChunk);
    const done = new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.on('error', () => undefined); // a worker killed mid-write; what it wrote is in
    });
    this.#open.add(done);
    void done.then(() => this.#open.delete(done));
    stream.once('end', () => {
      if (rest) writer.writeBlock(Buffer.concat([rest, Buffer.from('\n')]), false);
    });
  }
}

/** The pipe `piped` wraps, reading into `buffer` from now on; `piped` is left closed and empty. */
function ownBufferStream(piped: Readable, buffer: Buffer, onChunk: (chunk: Buffer) => void): Socket {
  const old = piped as unknown as PipeSocket;
  const handle = old._handle;
  if (handle === null) throw new WorkerOutputError('its pipe is already closed (no handle to read)');
  handle.readStop();
  handle.reading = false;
  // Forked a moment ago, the worker has written nothing yet; anything already read goes first.
  const early = piped.read() as Buffer | null;
  if (early !== null) onChunk(early);
  // `handle` is not in the published options; the constructor takes it as child_process does.
  const socket = new Socket({
    handle,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (nread: number) => {
        onChunk(buffer.subarray(0, nread));
        return true;
      },
    },
  } as unknown as ConstructorParameters<typeof Socket>[0]);
  old._handle = null;
  piped.destroy(); // its 'close' is what child_process waits for; the handle is no longer its to close
  return socket;
}
