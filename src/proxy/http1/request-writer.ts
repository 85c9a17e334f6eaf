// The request as it goes to one upstream connection: a request with a body holds its head back
// so the first body bytes leave in the same write, the body is re-framed chunked when the
// client's was (the chunk framing itself was removed by request-body.ts), and each body chunk,
// lent only for the call that hands it over, goes through writeFromClient (client-reads.ts): as
// it is when its read may be kept, else as a copy.
import type { Socket } from 'node:net';
import { writeFromClient } from './client-reads.ts';
import type { BodyFraming } from './message.ts';
import { CHUNK_END, LAST_CHUNK, chunkSizeLine, writeMessage } from './writer.ts';

export class RequestWriter {
  readonly #framing: BodyFraming;
  /** The head, until it is written together with the first body bytes. */
  #unsentHead: string | undefined;
  /** Body bytes written so far (a retry or a resend is allowed only before the first). */
  bodySent = 0;

  constructor(framing: BodyFraming) {
    this.#framing = framing;
  }

  /** Keeps `head` for the first body bytes (a later connection's head replaces an earlier one). */
  holdHead(head: string): void {
    this.#unsentHead = head;
  }

  /** No body bytes were waiting: the head goes alone, the body follows as it arrives. */
  flushHead(socket: Socket): void {
    if (this.#unsentHead === undefined) return;
    socket.write(this.#unsentHead, 'latin1');
    this.#unsentHead = undefined;
  }

  /** Writes body bytes; returns what the socket's last `write` returned. */
  data(socket: Socket, chunk: Buffer): boolean {
    this.bodySent += chunk.length;
    // One write needs no cork (corking costs a pass through the stream's buffered writes).
    if (this.#framing !== 'chunked' && this.#unsentHead === undefined) return writeFromClient(socket, chunk);
    let ok: boolean;
    socket.cork();
    this.flushHead(socket);
    if (this.#framing === 'chunked') {
      socket.write(chunkSizeLine(chunk.length), 'latin1');
      writeFromClient(socket, chunk);
      ok = socket.write(CHUNK_END, 'latin1');
    } else {
      ok = writeFromClient(socket, chunk);
    }
    socket.uncork();
    return ok;
  }

  /** The body is complete: the last chunk (chunked), or a head still held for an empty body. */
  end(socket: Socket): void {
    if (this.#framing === 'chunked') writeMessage(socket, this.#unsentHead ?? '', LAST_CHUNK);
    else this.flushHead(socket);
    this.#unsentHead = undefined;
  }
}
