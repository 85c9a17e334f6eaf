// One client connection's state machine: read a request head → admit and route it → forward
// it (or answer it) → relay the response → the next request. Strictly one request at a time:
// bytes a client sends ahead stay buffered, unparsed, until the response is done (when the
// socket is read is client-read-flow.ts's). The client timeouts (head, body, keep-alive idle, a
// client that stops reading) are one deadline at a time (client-deadline.ts), checked on the
// worker's coarse tick; what each does when it fires is decided here. What a request costs the
// worker's books (in flight, metrics, access log) is request-accounting.ts's.
import type { Socket } from 'node:net';
import type { Logger } from '../../log.ts';
import type { RequestIds } from '../request-id.ts';
import { replyBody, replyFields, type ProxyReply } from '../responses.ts';
import { BODY_TIMEOUT_REPLY, ClientDeadline, HEADER_TIMEOUT_REPLY } from './client-deadline.ts';
import type { ClientStream } from './client-reads.ts';
import { ClientReadFlow } from './client-read-flow.ts';
import { unwatch, watch, type Ticking } from './deadlines.ts';
import type { ClientSide } from './exchange-sides.ts';
import { Exchange } from './exchange.ts';
import type { ParseError, RequestHead } from './message.ts';
import { ReceivedBytes } from './received-bytes.ts';
import { RequestAccounting } from './request-accounting.ts';
import { route, type ConnectionContext } from './route.ts';
import type { Tunnel } from './tunnel.ts';
import { clientLines } from './forward-heads.ts';
import { CONTINUE_HEAD, proxyResponseHead, writeMessage } from './writer.ts';

export type ConnectionState = 'head' | 'request' | 'tunnel' | 'lingering' | 'closed';

export class ClientConnection implements ClientSide, Ticking {
  readonly socket: Socket;
  readonly #context: ConnectionContext;
  readonly #remote: string;
  #state: ConnectionState = 'head';
  readonly #received = new ReceivedBytes();
  #clientEnded = false;
  readonly #deadline: ClientDeadline;
  #head: RequestHead | undefined;
  readonly #accounting: RequestAccounting;
  #exchange: Exchange | undefined;
  #tunnel: Tunnel | undefined;
  readonly #flow: ClientReadFlow;
  #stallTimeoutMs = 0;
  /** A request was served on this connection before (a later silence is just idleness). */
  #hadRequest = false;
  /** The proxy refused the request and closes: the client may be sending the rest of it still. */
  #refused = false;

  constructor(stream: ClientStream, context: ConnectionContext, remote: string) {
    const socket = stream.socket;
    this.socket = socket;
    this.#context = context;
    this.#remote = remote;
    this.#accounting = new RequestAccounting(context.owner, remote);
    this.#deadline = new ClientDeadline(context.owner.timeouts);
    this.#flow = new ClientReadFlow(socket, this.#received, this.#deadline);
    socket.setNoDelay(true);
    stream.onChunk(this.#onData);
    stream.streamsWhile(this.#streamsUpstream);
    socket.on('end', this.#onEnd);
    socket.on('error', () => undefined); // 'close' follows and does the cleanup
    socket.once('close', this.#onClose);
    this.#deadline.header();
    watch(this);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get versionMinor(): 0 | 1 {
    return this.#head?.versionMinor ?? 1;
  }

  get keepAliveSecs(): number {
    return this.#context.owner.timeouts.keepAliveSecs;
  }

  get requestIds(): RequestIds | undefined {
    return this.#context.owner.requestIds;
  }

  get logger(): Logger {
    return this.#context.owner.logger;
  }

  /** The drain deadline: whatever runs on this connection is cut, and logged as such. */
  cut(): void {
    this.#accounting.cut();
    this.socket.destroy();
  }

  /** Closes the connection if it sits between requests (drain's idle sweep). */
  closeIfIdle(): void {
    if (this.#state === 'head' && this.#received.buffer === undefined) this.socket.destroy();
  }

  onTick(now: number): void {
    const kind = this.#deadline.expired(now);
    if (kind === 'none') return;
    if (kind === 'header') {
      // A connection that never sent a byte after its last response is simply closed.
      if (this.#received.buffer === undefined && this.#accounting.record === undefined && this.#hadRequest) this.socket.destroy();
      else this.#refuse(HEADER_TIMEOUT_REPLY, 'ERR_CLIENT_HEADER_TIMEOUT');
    } else if (kind === 'keepalive' || kind === 'linger') {
      this.socket.destroy();
    } else if (kind === 'body') {
      this.#exchange?.abandon(BODY_TIMEOUT_REPLY, 'ERR_CLIENT_BODY_TIMEOUT');
    } else if (kind === 'send') {
      this.#accounting.failed('ERR_CLIENT_SEND_TIMEOUT');
      this.socket.destroy();
    }
  }

  /** Whether what arrives goes upstream as it comes (a body being forwarded, a tunnel). */
  readonly #streamsUpstream = (): boolean => this.#state === 'tunnel' || (this.#state === 'request' && this.#flow.bodyStreaming);

  readonly #onData = (chunk: Buffer): void => {
    switch (this.#state) {
      case 'tunnel':
        (this.#tunnel as Tunnel).fromClient(chunk);
        return;
      case 'lingering': // read only so that the client's bytes do not make the kernel reset the connection
      case 'closed':
        return;
      case 'request':
        this.#flow.duringRequest(chunk);
        break;
      case 'head':
        if (this.#deadline.kind === 'keepalive') this.#deadline.header();
        this.#received.add(chunk, 0);
        this.#drive();
    }
    this.#received.keepCopyOf(chunk);
  };

  /** Parses and starts every complete request head waiting, one at a time. */
  #drive(): void {
    const received = this.#received;
    while (this.#state === 'head' && received.buffer !== undefined) {
      const head = received.takeRequestHead();
      if (head === undefined) return;
      if ('code' in head) return this.#refuseParse(head);
      this.#startRequest(head);
    }
  }

  #startRequest(head: RequestHead): void {
    this.#state = 'request';
    this.#hadRequest = true;
    this.#deadline.clear();
    this.#head = head;
    const record = this.#accounting.start(head.method, head.target);
    const flow = this.#flow;
    flow.startRequest(head);
    const routed = route(head, record, this.#context, this.#remote, flow.bodyDone);
    if (!routed.ok) return this.reply(routed.reply, routed.code);
    this.#stallTimeoutMs = routed.handling.clientIdleTimeoutMs;
    if (routed.sendContinue) this.socket.write(CONTINUE_HEAD, 'latin1');
    this.#exchange = new Exchange(this, record, routed.request);
    flow.attachBody(this.#exchange, routed.handling.bodyLimitBytes);
    this.#exchange.start();
  }

  keepAliveAfterResponse(): boolean {
    const head = this.#head as RequestHead;
    return head.keepAlive && this.#flow.bodyDone && !this.#clientEnded && !this.#context.owner.draining;
  }

  startBody(): void {
    this.#flow.upstreamReady();
  }

  pauseBody(): void {
    this.#flow.upstreamFull();
  }

  resumeBody(): void {
    this.#flow.upstreamDrained(this.#state === 'request');
  }

  sendStalled(stalled: boolean): void {
    if (stalled) this.#deadline.send(this.#stallTimeoutMs);
    else this.#deadline.clearIf('send');
  }

  finish(keepAlive: boolean): void {
    if (this.#state !== 'request') return;
    // As nginx decides on a lingering close: the rest of a refused request, an unread body or
    // bytes sent ahead may still be on their way.
    const mayStillSend = !this.#clientEnded && (this.#refused || !this.#flow.bodyDone || this.#received.buffer !== undefined);
    this.#endRequest();
    if (!keepAlive) return this.#close(mayStillSend);
    this.#state = 'head';
    if (this.#received.buffer !== undefined) {
      this.#deadline.header();
      // The next request was sent ahead: start it once this call stack has unwound.
      process.nextTick(() => this.#drive());
    } else {
      this.#deadline.keepAlive();
    }
    this.#flow.resumeReading();
  }

  /** `code`: why the proxy answered itself, or undefined for a route's redirect or fixed response. */
  reply(reply: ProxyReply, code: string | undefined): void {
    if (reply.close === true) this.#refused = true;
    const keepAlive = !reply.close && this.keepAliveAfterResponse();
    const body = replyBody(reply);
    const record = this.#accounting.answered(reply.status, code, body.length);
    const head = proxyResponseHead(reply.status, replyFields(reply, body.length), clientLines(keepAlive, this, record.requestId));
    writeMessage(this.socket, head, this.#head?.method === 'HEAD' ? undefined : body);
    this.finish(keepAlive);
  }

  fail(): void {
    this.socket.destroy();
  }

  /**
   * Ends the connection once the response is written. A client that may still be sending gets a
   * lingering close (CLIENT_LINGER_MS): closing a socket that receives bytes makes the kernel
   * reset the connection, and a client whose write meets that reset before it read the response
   * loses the response.
   */
  #close(mayStillSend: boolean): void {
    if (!mayStillSend) {
      this.#state = 'closed';
      this.socket.destroySoon();
      return;
    }
    this.#state = 'lingering';
    this.#flow.resumeReading();
    // The deadline starts once the response is flushed: until then a slow reader is the send deadline's.
    this.socket.end(() => {
      if (this.#state === 'lingering') this.#deadline.linger();
    });
  }

  becomeTunnel(tunnel: Tunnel): void {
    this.#state = 'tunnel';
    this.#tunnel = tunnel;
    this.#deadline.clear();
    const received = this.#received;
    if (received.buffer !== undefined) {
      tunnel.fromClient(received.buffer.subarray(received.start));
      received.consumeTo(received.buffer.length);
    }
    this.#flow.resumeReading();
  }

  /** A head the parser refused: answered with its status, then the connection is closed. */
  #refuseParse(error: ParseError): void {
    this.#refuse({ status: error.status, message: error.reason, close: true }, error.code);
  }

  #refuse(reply: ProxyReply, code: string): void {
    this.#state = 'request';
    this.#accounting.start(undefined, undefined);
    this.reply(reply, code);
  }

  #endRequest(): void {
    this.#exchange = undefined;
    this.#head = undefined;
    this.#accounting.end();
  }

  readonly #onEnd = (): void => {
    this.#clientEnded = true;
    if (this.#state === 'tunnel') {
      (this.#tunnel as Tunnel).clientEnded();
    } else if (this.#state === 'request' && !this.#flow.bodyDone) {
      this.socket.destroy(); // the body will never be complete
    } else if (this.#state === 'head') {
      this.#state = 'closed';
      this.socket.destroySoon();
    } else if (this.#state === 'lingering') {
      this.socket.destroy(); // the client has sent everything: the close can no longer cause a reset
    }
    // A request in flight with its body complete is answered; finish() then closes.
  };

  readonly #onClose = (): void => {
    const state = this.#state;
    this.#state = 'closed';
    this.#deadline.clear();
    unwatch(this);
    const accounting = this.#accounting;
    if (state === 'tunnel' && accounting.record !== undefined) {
      (this.#tunnel as Tunnel).clientClosed();
      accounting.tunnelClosed(this.socket);
    } else if (this.#exchange !== undefined) {
      this.#exchange.clientGone(accounting.cutStatus);
    } else {
      accounting.closedUnanswered();
    }
    this.#endRequest();
    this.#context.owner.connectionClosed(this);
  };
}
