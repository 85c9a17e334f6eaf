// The buffers upstream sockets read into (net.connect's `onread`), recycled through a free
// list. Node would otherwise allocate a fresh 64 KiB buffer for every read, and those buffers,
// outside the V8 heap, were freed only by full mark-compacts under load (bench/findings.md).
// A buffer whose bytes are still queued for the client is "lent" to that client's exchange and
// comes back here once the client socket has flushed them. The same free list holds the copies
// of client bytes sent upstream, since those arrive in a buffer lent only for one call
// (client-reads.ts); a second one, of larger buffers, holds the buffers a client connection
// reads into while it streams a body or tunnel upstream, which go upstream without a copy.
import type { Socket } from 'node:net';
import { CLIENT_BODY_READ_BUFFER_BYTES, MAX_SPARE_READ_BUFFERS, UPSTREAM_READ_BUFFER_BYTES } from '../limits.ts';

class FreeList {
  readonly size: number;
  readonly #spare: Buffer[] = [];

  constructor(size: number) {
    this.size = size;
  }

  take(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  giveBack(buffer: Buffer): void {
    if (this.#spare.length < MAX_SPARE_READ_BUFFERS) this.#spare.push(buffer);
  }
}

const readSized = new FreeList(UPSTREAM_READ_BUFFER_BYTES);
// One list when the two sizes are set equal: a buffer given back goes to the list of its size.
const bodySize: number = CLIENT_BODY_READ_BUFFER_BYTES;
const bodySized = bodySize === readSized.size ? readSized : new FreeList(bodySize);

export function takeReadBuffer(): Buffer {
  return readSized.take();
}

/** A buffer for a client read that may go upstream as it is (client-reads.ts). */
export function takeBodyReadBuffer(): Buffer {
  return bodySized.take();
}

/** Back to the free list of its size. */
export function giveBackReadBuffer(buffer: Buffer): void {
  (buffer.length === bodySized.size ? bodySized : readSized).giveBack(buffer);
}

export class SocketReadBuffer {
  #current: Buffer | undefined;
  #lent = false;
  #reading = false;

  /** The buffer for the next read: a new one once the current one was lent, else undefined (keep it). */
  next(): Buffer | undefined {
    if (this.#current !== undefined && !this.#lent) return undefined;
    this.#lent = false;
    this.#current = takeReadBuffer();
    return this.#current;
  }

  /** Brackets the handling of a read: meanwhile the buffer may still be referenced by the handler. */
  reading(active: boolean): void {
    this.#reading = active;
  }

  /** The current buffer now belongs to a client write; the next read takes a new one. */
  lend(): void {
    this.#lent = true;
  }

  /** The socket is gone: its buffer goes back unless it is lent or a read still holds it (that read gives it back). */
  release(): void {
    if (this.#current !== undefined && !this.#lent && !this.#reading) giveBackReadBuffer(this.#current);
    this.#current = undefined;
  }
}

/**
 * Writes `chunk`, which the caller only borrows, through copies in free-list buffers that come
 * back once written; returns what the last `write` returned. A failed write leaves its copy to
 * the GC, since the socket may still reference it.
 */
export function writeCopy(socket: Socket, chunk: Buffer): boolean {
  let ok = true;
  for (let at = 0; at < chunk.length; at += UPSTREAM_READ_BUFFER_BYTES) {
    const piece = chunk.subarray(at, at + UPSTREAM_READ_BUFFER_BYTES);
    const copy = takeReadBuffer();
    piece.copy(copy);
    ok = socket.write(copy.subarray(0, piece.length), (error) => {
      if (!error) giveBackReadBuffer(copy);
    });
  }
  return ok;
}

const NOTHING = Buffer.alloc(0);

/**
 * `buffer` has bytes queued on `socket`: it comes back to the free list once every write queued
 * so far has completed (an empty write's callback runs after those before it). A socket already
 * ended (the response that wrote them closes the connection) takes no more writes, not even an
 * empty one: that would fail the socket and drop its queue; its 'finish' says the same. A socket
 * that fails leaves the buffer to the GC, since its writes may still reference it.
 */
export function giveBackWhenFlushed(socket: Socket, buffer: Buffer): void {
  if (socket.writableFinished) return giveBackReadBuffer(buffer);
  if (socket.writableEnded) {
    socket.once('finish', () => giveBackReadBuffer(buffer));
    return;
  }
  socket.write(NOTHING, (error) => {
    if (!error) giveBackReadBuffer(buffer);
  });
}
