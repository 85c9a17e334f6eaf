// One request forwarded upstream: picks an upstream, gets a pooled connection, writes the request
// (head and first body bytes in one writev, chunked bodies re-framed), relays the response with
// backpressure both ways, resends once when a reused connection turns out to be closed (the
// keep-alive race), fails over on a refused connect, and answers failures itself.
import type { Socket } from 'node:net';
import type { Logger } from '../../log.ts';
import type { AccessRecord } from '../access-log.ts';
import { logUpstreamError } from '../access-log.ts';
import { pickUpstream, type CompiledSite } from '../generation.ts';
import { clientResponseHeaders } from '../headers.ts';
import { UPSTREAM_FAIL_TIMEOUT_MS } from '../limits.ts';
import { ejectUpstream, type UpstreamPool } from '../pools.ts';
import { CLIENT_CLOSED_STATUS, type ProxyReply } from '../responses.ts';
import { isConnectFailure, replyFor, toProxyError } from '../upstream-errors.ts';
import type { BodyFraming, ResponseHead } from './message.ts';
import { giveBackWhenFlushed } from './read-buffers.ts';
import { Tunnel } from './tunnel.ts';
import type { UpstreamConnection, ResponseHandler } from './upstream-connection.ts';
import type { PoolWaiter } from './upstream-pool.ts';
import { ResponseRelay, type RelayControl } from './response-relay.ts';
import { CHUNK_END, LAST_CHUNK, chunkSizeLine, connectionLines, requestHead, responseHead, writeMessage } from './writer.ts';

/** What the exchange needs from the client connection it serves. */
export interface ClientSide {
  readonly socket: Socket;
  readonly versionMinor: 0 | 1;
  readonly keepAliveSecs: number;
  readonly logger: Logger;
  /** Whether the connection may carry another request after this response. */
  keepAliveAfterResponse(): boolean;
  /** The upstream is ready: start handing over the request body. */
  startBody(): void;
  pauseBody(): void;
  resumeBody(): void;
  /** The client has stopped reading the response (true) or caught up again (false). */
  sendStalled(stalled: boolean): void;
  /** The response is completely written. */
  finish(keepAlive: boolean): void;
  /** Answer with a proxy reply instead (nothing of a response was sent yet). */
  reply(reply: ProxyReply, code: string): void;
  /** Part of the response is out: the only honest signal left is closing the connection. */
  fail(): void;
  becomeTunnel(tunnel: Tunnel): void;
}

export interface ForwardRequest {
  readonly site: CompiledSite;
  readonly method: string;
  readonly target: string;
  readonly headers: readonly string[];
  /** No Host among `headers`: send the upstream's own host:port. */
  readonly upstreamHost: boolean;
  readonly bodyFraming: BodyFraming;
  /** The protocol of an Upgrade request (never h2c), else undefined. */
  readonly upgrade: string | undefined;
}

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export class Exchange implements ResponseHandler, PoolWaiter, RelayControl {
  readonly #client: ClientSide;
  readonly #record: AccessRecord;
  readonly #request: ForwardRequest;
  #pool: UpstreamPool | undefined;
  #conn: UpstreamConnection | undefined;
  #attempts = 0;
  #resent = false;
  /** The request head, until it is written together with the first body bytes. */
  #unsentHead: string | undefined;
  #bodyAsked = false;
  #bodySent = 0;
  #waitingUpstreamDrain = false;
  #headSent = false;
  #keepAlive = false;
  readonly #relay: ResponseRelay;
  #done = false;

  constructor(client: ClientSide, record: AccessRecord, request: ForwardRequest) {
    this.#client = client;
    this.#record = record;
    this.#request = request;
    this.#relay = new ResponseRelay(client.socket, this);
  }

  pauseUpstream(): void {
    this.#conn?.pause();
  }

  resumeUpstream(): void {
    this.#conn?.resume();
  }

  sendStalled(stalled: boolean): void {
    this.#client.sendStalled(stalled);
  }

  /** True once the response head went to the client (from then on failures close the connection). */
  get responseStarted(): boolean {
    return this.#headSent;
  }

  start(): void {
    const pool = pickUpstream(this.#request.site);
    this.#pool = pool;
    this.#attempts++;
    this.#record.upstream = pool.origin;
    pool.acquire(this);
  }

  onUpstreamConnection(conn: UpstreamConnection): void {
    const request = this.#request;
    const pool = this.#pool as UpstreamPool;
    if (this.#done) {
      pool.reusable(conn);
      return;
    }
    this.#conn = conn;
    conn.start(this, request.method, request.upgrade !== undefined, request.site.requestTimeoutMs);
    let extra = request.upstreamHost ? `host: ${pool.authority}\r\n` : '';
    extra += request.upgrade === undefined ? 'connection: keep-alive\r\n' : `connection: upgrade\r\nupgrade: ${request.upgrade}\r\n`;
    if (request.bodyFraming === 'chunked') extra += 'transfer-encoding: chunked\r\n';
    const head = requestHead(request.method, request.target, request.headers, extra);
    if (request.bodyFraming === 'none') {
      conn.socket.write(head, 'latin1');
      conn.requestSent();
      return;
    }
    this.#unsentHead = head;
    if (!this.#bodyAsked) {
      this.#bodyAsked = true;
      this.#client.startBody();
    }
    // No body bytes were waiting: the head goes alone, the body follows as it arrives.
    if (this.#unsentHead !== undefined && this.#conn === conn) {
      conn.socket.write(this.#unsentHead, 'latin1');
      this.#unsentHead = undefined;
    }
  }

  /** Request body bytes (chunked framing already removed). */
  bodyData(chunk: Buffer): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    const socket = conn.socket;
    let ok: boolean;
    if (this.#request.bodyFraming === 'chunked') {
      socket.cork();
      if (this.#unsentHead !== undefined) socket.write(this.#unsentHead, 'latin1');
      socket.write(chunkSizeLine(chunk.length), 'latin1');
      socket.write(chunk);
      ok = socket.write(CHUNK_END, 'latin1');
      socket.uncork();
    } else {
      ok = this.#unsentHead !== undefined ? writeMessage(socket, this.#unsentHead, chunk) : socket.write(chunk);
    }
    this.#unsentHead = undefined;
    this.#bodySent += chunk.length;
    this.#record.bytesIn += chunk.length;
    if (!ok && !this.#waitingUpstreamDrain) {
      this.#waitingUpstreamDrain = true;
      this.#client.pauseBody();
      socket.once('drain', this.#onUpstreamDrain);
    }
  }

  bodyEnd(): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    if (this.#request.bodyFraming === 'chunked') writeMessage(conn.socket, this.#unsentHead ?? '', LAST_CHUNK);
    else if (this.#unsentHead !== undefined) conn.socket.write(this.#unsentHead, 'latin1');
    this.#unsentHead = undefined;
    conn.requestSent();
  }

  readonly #onUpstreamDrain = (): void => {
    this.#waitingUpstreamDrain = false;
    if (!this.#done) this.#client.resumeBody();
  };

  onResponseHead(head: ResponseHead, framing: BodyFraming): void {
    const client = this.#client;
    const request = this.#request;
    this.#headSent = true;
    this.#record.status = head.status;
    if (head.status === 101) {
      this.#startTunnel(head);
      return;
    }
    // A declined upgrade is relayed, and the connection closed: the client may have sent
    // bytes of the new protocol already.
    let keepAlive = request.upgrade === undefined && client.keepAliveAfterResponse();
    let extra = '';
    let chunked = false;
    if (framing === 'chunked' || framing === 'close') {
      if (client.versionMinor === 1) {
        extra = 'transfer-encoding: chunked\r\n';
        chunked = true;
      } else {
        keepAlive = false; // HTTP/1.0 has no chunked coding: the close ends the body
      }
    }
    this.#keepAlive = keepAlive;
    extra += connectionLines(keepAlive, client.keepAliveSecs);
    this.#relay.head(responseHead(head.status, head.reason, clientResponseHeaders(head.headers, request.site.via), extra), framing === 'none', chunked);
  }

  onResponseBody(chunk: Buffer): void {
    this.#record.bytesOut += chunk.length;
    this.#relay.body(chunk);
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#done = true;
    this.#conn = undefined;
    this.#relay.end();
    this.#client.finish(this.#keepAlive);
  }

  onResponseError(error: Error, resendable: boolean): void {
    this.#conn = undefined;
    if (this.#done) return;
    if (resendable && !this.#resent && IDEMPOTENT.has(this.#request.method) && this.#bodySent === 0) {
      // The keep-alive race: the upstream closed this idle connection as the request went
      // out, and nothing it could have acted on was sent. Once, on a new connection.
      this.#resent = true;
      (this.#pool as UpstreamPool).acquire(this, true);
      return;
    }
    this.#failed(error);
  }

  onUpstreamFailure(error: Error): void {
    if (this.#done) return;
    const pool = this.#pool as UpstreamPool;
    const site = this.#request.site;
    const connectFailed = isConnectFailure(error);
    if (connectFailed && site.upstreams.length > 1 && ejectUpstream(pool)) {
      this.#client.logger.warn(
        { event: 'upstream_down', upstream: pool.origin, reason: toProxyError(error, pool.origin).message, for_ms: UPSTREAM_FAIL_TIMEOUT_MS },
        `upstream ${pool.origin} taken out of rotation for ${UPSTREAM_FAIL_TIMEOUT_MS} ms after a failed connect`,
      );
    }
    // Nothing of the request left the proxy: the next upstream may be tried.
    if (connectFailed && this.#attempts < site.upstreams.length && this.#bodySent === 0) {
      this.start();
      return;
    }
    this.#failed(error);
  }

  readDone(): boolean {
    return this.#relay.readDone();
  }

  adoptReadBuffer(buffer: Buffer): void {
    giveBackWhenFlushed(this.#client.socket, buffer);
  }

  /** The client went away (or `cutStatus`: the proxy cut it): give up on the upstream side. */
  clientGone(cutStatus?: number): void {
    if (!this.#headSent) this.#record.status = cutStatus ?? CLIENT_CLOSED_STATUS;
    this.#record.error ??= 'ERR_CLIENT_CLOSED';
    this.#stop();
  }

  /** The proxy refuses the rest of the request (body over the limit, bad chunked framing, body timeout). */
  abandon(reply: ProxyReply, code: string): void {
    this.#stop();
    if (this.#headSent) {
      this.#record.error = code;
      this.#client.fail();
    } else {
      this.#client.reply({ ...reply, close: true }, code);
    }
  }

  #stop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#relay.stop();
    if (this.#conn !== undefined) this.#conn.abort();
    else this.#pool?.cancel(this);
    this.#conn = undefined;
  }

  #failed(error: Error): void {
    const pool = this.#pool as UpstreamPool;
    const proxyError = toProxyError(error, pool.origin);
    this.#record.error = proxyError.code;
    logUpstreamError(this.#client.logger, proxyError, { upstream: pool.origin, host: this.#record.host, path: this.#record.path });
    this.#done = true;
    if (this.#headSent) {
      this.#relay.abort();
      this.#client.fail();
    } else {
      this.#client.reply(replyFor(proxyError), proxyError.code);
    }
  }

  #startTunnel(head: ResponseHead): void {
    const conn = this.#conn as UpstreamConnection;
    const upgrade = head.upgrade ?? this.#request.upgrade;
    const socket = this.#client.socket;
    socket.write(responseHead(101, head.reason, clientResponseHeaders(head.headers, this.#request.site.via), `connection: upgrade\r\nupgrade: ${upgrade}\r\n`), 'latin1');
    this.#done = true;
    this.#conn = undefined;
    const tunnel = new Tunnel(socket, conn);
    conn.handOver(tunnel);
    this.#client.becomeTunnel(tunnel);
  }
}
