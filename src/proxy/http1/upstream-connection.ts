// One keep-alive connection to an upstream: connects over net or tls, reads into recycled
// buffers, parses each response strictly (a head the parser refuses, or bad chunked framing, is
// an error and never relayed; response-framing.ts finds where a response ends), skips interim
// 1xx responses, and tells its pool whether it can carry another request. How it is opened is
// upstream-dial.ts's; whom it reports to (the response's handler, its pool) upstream-sides.ts's.
import type { Socket } from 'node:net';
import { UpstreamIoError, type UpstreamIoCode } from '../../errors.ts';
import { beginRead, endRead, now } from '../read-clock.ts';
import { unwatch, watch, type Ticking } from './deadlines.ts';
import type { ParseError, ResponseHead } from './message.ts';
import { giveBackReadBuffer, SocketReadBuffer } from './read-buffers.ts';
import { ResponseFraming } from './response-framing.ts';
import { dial, type UpstreamTarget } from './upstream-dial.ts';
import type { ConnectionOwner, ResponseHandler } from './upstream-sides.ts';

type State = 'connecting' | 'idle' | 'active' | 'closed';

function failure(code: UpstreamIoCode, message: string): UpstreamIoError {
  return new UpstreamIoError(code, message);
}

function invalid(error: ParseError): UpstreamIoError {
  return failure('ERR_RESPONSE_INVALID', `invalid response: ${error.code} (${error.reason})`);
}

export class UpstreamConnection implements Ticking {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  #state: State = 'connecting';
  #handler: ResponseHandler | undefined;
  /** Requests started on this connection; more than one means it was reused. */
  #requests = 0;
  #method = 'GET';
  #upgradeAsked = false;
  #requestTimeoutMs = 0;
  /** performance.now() at which the current wait times out; 0 for none. */
  #deadline = 0;
  /** performance.now() since which the connection is idle in its pool. */
  idleSince = 0;
  /** Response bytes of the current request received so far. */
  #received = 0;
  #requestSent = false;
  #paused = false;
  readonly #framing = new ResponseFraming();
  #keepAlive = false;
  #upgraded = false;
  readonly #readBuffer = new SocketReadBuffer();

  constructor(target: UpstreamTarget, owner: ConnectionOwner) {
    this.#owner = owner;
    this.socket = dial(target, this.#nextBuffer, this.#onRead, this.#onConnect);
    this.#deadline = now() + target.connectTimeoutMs;
    this.socket.on('error', this.#onError);
    this.socket.on('end', this.#onEnd);
    this.socket.once('close', this.#onClose);
    watch(this);
  }

  get idle(): boolean {
    return this.#state === 'idle';
  }

  /** Starts a request on a connected connection; the caller writes the request itself. */
  start(handler: ResponseHandler, method: string, upgrade: boolean, requestTimeoutMs: number): void {
    this.#state = 'active';
    this.#handler = handler;
    this.#requests++;
    this.#method = method;
    this.#upgradeAsked = upgrade;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#received = 0;
    this.#requestSent = false;
    this.#framing.reset();
    this.#deadline = 0;
  }

  /** The whole request is written: from now on the upstream must answer within the timeout. */
  requestSent(): void {
    this.#requestSent = true;
    if (!this.#paused && this.#state === 'active') this.#deadline = now() + this.#requestTimeoutMs;
  }

  /** Hands the rest of the connection (a tunnel after 101) to another handler. */
  handOver(handler: ResponseHandler): void {
    this.#handler = handler;
  }

  /** Stops reading (the client is behind); the response timeout waits too. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#deadline = 0;
    this.socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#requestSent && this.#state === 'active' && !this.#upgraded) this.#deadline = now() + this.#requestTimeoutMs;
    this.socket.resume();
  }

  /** Closes the connection without telling the handler (it is the one giving up). */
  abort(): void {
    this.#handler = undefined;
    this.#close();
  }

  /** Closes an idle or connecting connection (pool shutdown, idle timeout). */
  close(): void {
    if (this.#state === 'connecting') this.#connectFailed(failure('ERR_POOL_CLOSED', 'closed before the connection was up'));
    else this.#close();
  }

  onTick(now: number): void {
    if (this.#deadline === 0 || now < this.#deadline) return;
    this.#deadline = 0;
    if (this.#state === 'connecting') this.#connectFailed(failure('ERR_CONNECT_TIMEOUT', 'connect timed out'));
    else if (this.#state === 'active') this.#fail(failure('ERR_RESPONSE_TIMEOUT', 'no response within request_timeout_secs'));
  }

  readonly #onConnect = (): void => {
    this.#deadline = 0;
    this.#state = 'idle';
    this.#owner.connected(this);
  };

  readonly #nextBuffer = (): Buffer | undefined => (this.#state === 'closed' ? undefined : this.#readBuffer.next());

  readonly #onRead = (length: number, buffer: Buffer): boolean => {
    const handler = this.#handler;
    if (handler === undefined) {
      // Bytes nobody asked for (an idle connection): the upstream is out of step.
      this.#close();
      return false;
    }
    this.#received += length;
    const outerRead = beginRead();
    if (this.#deadline !== 0) this.#deadline = now() + this.#requestTimeoutMs;
    this.#readBuffer.reading(true);
    try {
      this.#consume(handler, buffer, 0, length);
    } finally {
      this.#readBuffer.reading(false);
      endRead(outerRead);
    }
    // After a 101 the rest of the read went to the tunnel that took over.
    const reader = this.#upgraded ? (this.#handler ?? handler) : handler;
    if (reader.readDone()) {
      this.#readBuffer.lend();
      reader.adoptReadBuffer(buffer);
    } else if (this.#state === 'closed') {
      giveBackReadBuffer(buffer);
    }
    return this.#state !== 'closed';
  };

  #consume(handler: ResponseHandler, buffer: Buffer, start: number, end: number): void {
    const framing = this.#framing;
    while (start < end) {
      const current = this.#handler;
      if (current === undefined || (current !== handler && !this.#upgraded)) return;
      handler = current;
      if (framing.framing === 'head') {
        const read = framing.readHead(buffer, start, end);
        if (read === undefined) return;
        if ('code' in read) return this.#fail(invalid(read));
        buffer = read.bytes;
        start = read.at;
        end = read.end;
        if (!this.#onHead(handler, read.head)) continue;
        if (framing.bodyless) return this.#finish(handler, start < end);
        continue;
      }
      const reader = handler;
      const read = framing.readBody(buffer, start, end, (chunk) => reader.onResponseBody(chunk));
      if ('code' in read) return this.#fail(invalid(read));
      if (read.done) return this.#finish(handler, read.stop < end);
      start = read.stop;
    }
  }

  /** Returns false for an interim response that was skipped (the final one follows). */
  #onHead(handler: ResponseHandler, head: ResponseHead): boolean {
    if (head.status < 200) {
      if (head.status !== 101) return false; // 100, 102, 103: not relayed
      if (!this.#upgradeAsked) {
        this.#fail(failure('ERR_RESPONSE_INVALID', 'invalid response: 101 to a request that asked for no upgrade'));
        return true;
      }
      this.#upgraded = true;
      this.#framing.expectTunnel();
      this.#deadline = 0;
      handler.onResponseHead(head, 'close');
      return true;
    }
    const framing = this.#framing.expectBody(head, this.#method);
    this.#keepAlive = head.keepAlive && framing !== 'close';
    handler.onResponseHead(head, framing);
    return true;
  }

  /** The response is complete; `extra`: the upstream sent bytes past its end. */
  #finish(handler: ResponseHandler, extra: boolean): void {
    if (this.#handler !== handler) return;
    this.#handler = undefined;
    this.#deadline = 0;
    this.#framing.reset();
    if (this.#keepAlive && this.#requestSent && !extra && !this.#upgraded) {
      this.#state = 'idle';
      // An idle connection keeps reading, so an upstream that closes it is noticed.
      this.resume();
      this.#owner.reusable(this);
    } else {
      this.#close();
    }
    handler.onResponseEnd();
  }

  #fail(error: Error): void {
    const handler = this.#handler;
    const resendable = this.#requests > 1 && this.#received === 0;
    this.#handler = undefined;
    this.#close();
    handler?.onResponseError(error, resendable);
  }

  #connectFailed(error: Error): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'closed';
    this.#teardown();
    this.#owner.connectFailed(this, error);
  }

  readonly #onError = (error: Error): void => {
    if (this.#state === 'connecting') this.#connectFailed(error);
    else this.#fail(error);
  };

  readonly #onEnd = (): void => {
    const handler = this.#handler;
    if (handler !== undefined && (this.#framing.framing === 'close' || this.#upgraded)) {
      this.#keepAlive = false;
      this.#finish(handler, false);
      return;
    }
    if (handler !== undefined) {
      this.#fail(failure('ERR_UPSTREAM_CLOSED', this.#received === 0 ? 'closed the connection without a response' : 'closed the connection mid-response'));
      return;
    }
    this.#close();
  };

  readonly #onClose = (): void => {
    if (this.#state === 'connecting') {
      this.#connectFailed(failure('ERR_UPSTREAM_CLOSED', 'closed while connecting'));
      return;
    }
    if (this.#handler !== undefined) this.#fail(failure('ERR_UPSTREAM_RESET', 'connection closed'));
    this.#close();
  };

  #close(): void {
    if (this.#state === 'closed') return;
    const wasCounted = this.#state !== 'connecting';
    this.#state = 'closed';
    this.#teardown();
    if (wasCounted) this.#owner.lost(this);
  }

  #teardown(): void {
    this.#deadline = 0;
    unwatch(this);
    this.socket.destroy();
    this.#readBuffer.release();
  }
}
