// When a client connection reads, and where a request's bytes go. The body waits in the socket
// until the upstream is ready for it, then is read as fast as the upstream takes it (reading
// pauses while the upstream socket is full, and the body deadline with it: the upstream is slow,
// not the client); each read feeds RequestBody and moves the body deadline. Bytes past the
// body's end were sent ahead: ReceivedBytes keeps them, and reading stops once they pass
// MAX_PIPELINED_BYTES. Kept apart from connection.ts's state machine: this is one stream's flow
// control, owned by the connection and told of its request's start and of the upstream's pace.
import type { Socket } from 'node:net';
import { MAX_PIPELINED_BYTES } from '../limits.ts';
import type { ClientDeadline } from './client-deadline.ts';
import type { RequestHead } from './message.ts';
import type { ReceivedBytes } from './received-bytes.ts';
import { RequestBody, type BodySink } from './request-body.ts';

export class ClientReadFlow {
  readonly #socket: Socket;
  readonly #received: ReceivedBytes;
  readonly #deadline: ClientDeadline;
  readonly #body = new RequestBody();
  #readPaused = false;
  /** The upstream is ready: the body is read and handed over as it arrives. */
  #bodyStarted = false;
  #bodyPausedByUpstream = false;

  constructor(socket: Socket, received: ReceivedBytes, deadline: ClientDeadline) {
    this.#socket = socket;
    this.#received = received;
    this.#deadline = deadline;
  }

  /** True once the request's body is complete (or refused), and for a request without one. */
  get bodyDone(): boolean {
    return this.#body.done;
  }

  /** The body is being read and forwarded as it arrives. */
  get bodyStreaming(): boolean {
    return this.#bodyStarted && !this.#body.done;
  }

  startRequest(head: RequestHead): void {
    this.#body.start(head);
    this.#bodyStarted = false;
    this.#bodyPausedByUpstream = false;
  }

  /** The request is forwarded: its body goes to `sink`, once the upstream is ready for it. */
  attachBody(sink: BodySink, limitBytes: number | undefined): void {
    this.#body.attach(sink, limitBytes);
    // The body waits in the socket until the upstream is ready for it.
    if (!this.#body.done) this.pauseReading();
  }

  /** A chunk read while a request is in flight: body bytes, or bytes sent ahead. */
  duringRequest(chunk: Buffer): void {
    if (this.#bodyStarted && !this.#body.done) {
      this.#deadline.body();
      const stop = this.#feedBody(chunk, 0, chunk.length);
      if (stop < chunk.length) this.#received.add(chunk, stop);
    } else {
      this.#received.add(chunk, 0);
    }
    if (this.#received.length > MAX_PIPELINED_BYTES) this.pauseReading();
  }

  /** The upstream is ready for the body: hand over what arrived already, then read on. */
  upstreamReady(): void {
    this.#bodyStarted = true;
    const received = this.#received;
    if (received.buffer !== undefined) received.consumeTo(this.#feedBody(received.buffer, received.start, received.buffer.length));
    if (!this.#body.done && !this.#bodyPausedByUpstream) {
      this.#deadline.body();
      this.resumeReading();
    }
  }

  upstreamFull(): void {
    this.#bodyPausedByUpstream = true;
    this.#deadline.clearIf('body'); // the upstream is slow, not the client
    this.pauseReading();
  }

  /** `inRequest`: the request the body belongs to is still in flight. */
  upstreamDrained(inRequest: boolean): void {
    this.#bodyPausedByUpstream = false;
    if (this.#body.done || !inRequest) return;
    this.#deadline.body();
    this.resumeReading();
  }

  pauseReading(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.#socket.pause();
  }

  resumeReading(): void {
    if (!this.#readPaused) return;
    this.#readPaused = false;
    this.#socket.resume();
  }

  /** Hands body bytes in buffer[start, end) to the body's sink; returns where the body ended. */
  #feedBody(buffer: Buffer, start: number, end: number): number {
    const stop = this.#body.feed(buffer, start, end);
    if (this.#body.done) this.#deadline.clearIf('body');
    return stop;
  }
}
