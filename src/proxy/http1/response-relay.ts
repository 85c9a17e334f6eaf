// How a response's bytes reach the client socket: the head and small chunks held as latin1 text
// (a small response leaves as one string in one write call, cheaper than a writev of a string
// and a buffer), larger chunks as buffers corked until the end of the event-loop turn (a 64 KiB
// body read as 64 KiB and the rest leaves in one writev), chunked re-framing, and the pause of
// the upstream while a slow client drains.
import type { Socket } from 'node:net';
import { MAX_HELD_RESPONSE_BYTES } from '../limits.ts';
import { CHUNK_END, LAST_CHUNK, chunkSizeLine } from './writer.ts';

/** Body chunks up to this size are held as text with the head. */
const SMALL_CHUNK_BYTES = 2048;
const MAX_HELD_TEXT_BYTES = 8192;

/** What the relay pauses and tells while the client is behind. */
export interface RelayControl {
  pauseUpstream(): void;
  resumeUpstream(): void;
  /** The client has stopped reading (true) or caught up again (false). */
  sendStalled(stalled: boolean): void;
}

export class ResponseRelay {
  readonly #socket: Socket;
  readonly #control: RelayControl;
  #chunked = false;
  /** The head and small body chunks as latin1 text, not yet written. */
  #heldText = '';
  /** Writes are corked to leave together at the end of this turn. */
  #holding = false;
  #releaseScheduled = false;
  #waitingDrain = false;
  /** The 'drain' listener, made the first time the client falls behind (most responses never do). */
  #drainListener: (() => void) | undefined;
  #ended = false;

  constructor(socket: Socket, control: RelayControl) {
    this.#socket = socket;
    this.#control = control;
  }

  /** The response head; `chunked`: the body is re-framed chunked for the client. */
  head(text: string, bodyless: boolean, chunked: boolean): void {
    this.#chunked = chunked;
    if (bodyless) this.#socket.write(text, 'latin1');
    else this.#heldText = text;
  }

  body(chunk: Buffer): void {
    const socket = this.#socket;
    const length = chunk.length;
    if (length <= SMALL_CHUNK_BYTES && this.#heldText.length + length <= MAX_HELD_TEXT_BYTES) {
      const data = chunk.toString('latin1');
      this.#heldText += this.#chunked ? `${chunkSizeLine(length)}${data}${CHUNK_END}` : data;
      return;
    }
    this.#hold();
    this.#writeHeldText();
    if (this.#chunked) {
      socket.write(chunkSizeLine(length), 'latin1');
      socket.write(chunk);
      socket.write(CHUNK_END, 'latin1');
    } else {
      socket.write(chunk);
    }
    if (socket.writableLength > MAX_HELD_RESPONSE_BYTES) this.#waitForClient();
  }

  /** The body is complete: everything held goes out now. */
  end(): void {
    this.#ended = true;
    const text = this.#chunked ? this.#heldText + LAST_CHUNK : this.#heldText;
    this.#heldText = '';
    if (text !== '') this.#socket.write(text, 'latin1');
    this.#unhold();
    if (this.#waitingDrain) {
      this.#waitingDrain = false;
      this.#socket.off('drain', this.#drainListener as () => void);
      this.#control.sendStalled(false);
    }
  }

  /** The response breaks off: what was relayed still goes out (the close then says it is incomplete). */
  abort(): void {
    this.#ended = true;
    this.#writeHeldText();
    this.#unhold();
  }

  /** The exchange gave up (its client is gone): nothing more is written. */
  stop(): void {
    this.#ended = true;
  }

  /** An upstream read was handed over; returns whether bytes are still queued on the socket. */
  readDone(): boolean {
    if (this.#heldText !== '' && !this.#ended) {
      // The head (or small chunks) must not wait for more body: a stream may pause here.
      this.#hold();
      this.#writeHeldText();
    }
    if (this.#holding && !this.#releaseScheduled) {
      this.#releaseScheduled = true;
      setImmediate(ResponseRelay.#releaseWrites, this);
    }
    return this.#socket.writableLength > 0;
  }

  #writeHeldText(): void {
    if (this.#heldText === '') return;
    this.#socket.write(this.#heldText, 'latin1');
    this.#heldText = '';
  }

  #hold(): void {
    if (this.#holding) return;
    this.#holding = true;
    this.#socket.cork();
  }

  #unhold(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#socket.uncork();
  }

  // Static, with the relay as its argument: a closure per relay would be garbage for every response.
  static #releaseWrites(relay: ResponseRelay): void {
    relay.#releaseScheduled = false;
    if (relay.#ended) return;
    relay.#unhold();
    if (relay.#socket.writableNeedDrain) relay.#waitForClient();
  }

  /** The client reads slower than the upstream sends: stop reading the upstream until it drains. */
  #waitForClient(): void {
    if (this.#waitingDrain) return;
    this.#waitingDrain = true;
    this.#control.pauseUpstream();
    this.#control.sendStalled(true);
    this.#socket.once('drain', (this.#drainListener ??= () => this.#onDrain()));
  }

  #onDrain(): void {
    this.#waitingDrain = false;
    this.#control.sendStalled(false);
    this.#control.resumeUpstream();
  }
}
