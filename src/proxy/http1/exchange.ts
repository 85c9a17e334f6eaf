// One request forwarded upstream: picks a server of its group, gets a pooled connection, writes
// the request (head and first body bytes in one writev, chunked bodies re-framed), relays the
// response with backpressure both ways (with the route's response header rules), resends once
// when a reused connection turns out to be closed (the keep-alive race), retries on another
// server as the group's retry policy allows (attempts.ts), and answers failures itself.
import type { AccessRecord } from '../access-log.ts';
import { logUpstreamError } from '../access-log.ts';
import { meterUpstream } from '../../metrics/tap.ts';
import { now } from '../read-clock.ts';
import type { UpstreamServer } from '../balance/server.ts';
import type { UpstreamPool } from '../pools.ts';
import { CLIENT_CLOSED_STATUS, type ProxyReply } from '../responses.ts';
import { Attempts, IDEMPOTENT, type SendFailure } from './attempts.ts';
import { isConnectFailure, replyFor, toProxyError } from '../upstream-errors.ts';
import type { ClientSide, ForwardRequest } from './exchange-sides.ts';
import type { BodyFraming, ResponseHead } from './message.ts';
import { giveBackWhenFlushed } from './read-buffers.ts';
import { RequestWriter } from './request-writer.ts';
import { relayedHead, switchingHead, upstreamHead } from './forward-heads.ts';
import { Tunnel } from './tunnel.ts';
import type { UpstreamConnection } from './upstream-connection.ts';
import type { ResponseHandler } from './upstream-sides.ts';
import type { PoolWaiter } from './upstream-pool.ts';
import { ResponseRelay, type RelayControl } from './response-relay.ts';

/** Why no server was tried: every server of the group is down, drained or in maintenance. */
const NO_SERVER_CODE = 'ERR_NO_HEALTHY_SERVER';

export class Exchange implements ResponseHandler, PoolWaiter, RelayControl {
  readonly #client: ClientSide;
  readonly #record: AccessRecord;
  readonly #request: ForwardRequest;
  readonly #attempts: Attempts;
  #server: UpstreamServer | undefined;
  #pool: UpstreamPool | undefined;
  #conn: UpstreamConnection | undefined;
  #resent = false;
  /** A response is being thrown away for a retry: its remaining callbacks are ignored. */
  #discarding = false;
  readonly #writer: RequestWriter;
  #bodyAsked = false;
  #waitingUpstreamDrain = false;
  /** Made the first time the upstream falls behind the body (bodyless requests never need it). */
  #upstreamDrainListener: (() => void) | undefined;
  #headSent = false;
  #keepAlive = false;
  readonly #relay: ResponseRelay;
  #done = false;

  constructor(client: ClientSide, record: AccessRecord, request: ForwardRequest) {
    this.#client = client;
    this.#record = record;
    this.#request = request;
    this.#relay = new ResponseRelay(client.socket, this);
    this.#writer = new RequestWriter(request.bodyFraming);
    this.#attempts = new Attempts(request.handling.target, { method: request.method, hasBody: request.bodyFraming !== 'none', remote: request.remote, headers: request.headers });
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
    const next = this.#attempts.next();
    if (next === undefined) {
      this.#done = true;
      this.#attempts.settle();
      this.#client.reply({ status: 503, message: `no healthy server in upstream group "${this.#attempts.groupName}"` }, NO_SERVER_CODE);
      return;
    }
    this.#sendTo(next.server, next.pool);
  }

  #sendTo(server: UpstreamServer, pool: UpstreamPool): void {
    this.#server = server;
    this.#pool = pool;
    this.#resent = false;
    this.#record.upstream = server.origin;
    this.#record.attempts = this.#attempts.count;
    meterUpstream(this.#record, server.origin, now());
    pool.acquire(this);
  }

  /** Tries another server after `failure`, if the policy allows it and one is left; false otherwise. */
  #retried(failure: SendFailure): boolean {
    if (this.#headSent || !this.#attempts.mayRetry(failure, this.#writer.bodySent)) return false;
    const next = this.#attempts.next();
    if (next === undefined) return false;
    this.#sendTo(next.server, next.pool);
    return true;
  }

  onUpstreamConnection(conn: UpstreamConnection): void {
    const request = this.#request;
    const pool = this.#pool as UpstreamPool;
    if (this.#done) {
      pool.reusable(conn);
      return;
    }
    this.#conn = conn;
    conn.start(this, request.method, request.upgrade !== undefined, request.handling.requestTimeoutMs);
    const head = upstreamHead(request, pool.authority);
    if (request.bodyFraming === 'none') {
      conn.socket.write(head, 'latin1');
      conn.requestSent();
      return;
    }
    this.#writer.holdHead(head);
    if (!this.#bodyAsked) {
      this.#bodyAsked = true;
      this.#client.startBody();
    }
    if (this.#conn === conn) this.#writer.flushHead(conn.socket);
  }

  /** Request body bytes (chunked framing already removed). */
  bodyData(chunk: Buffer): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    const socket = conn.socket;
    const ok = this.#writer.data(socket, chunk);
    this.#record.bytesIn += chunk.length;
    if (!ok && !this.#waitingUpstreamDrain) {
      this.#waitingUpstreamDrain = true;
      this.#client.pauseBody();
      socket.once('drain', (this.#upstreamDrainListener ??= () => this.#onUpstreamDrain()));
    }
  }

  bodyEnd(): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#writer.end(conn.socket);
    conn.requestSent();
  }

  #onUpstreamDrain(): void {
    this.#waitingUpstreamDrain = false;
    if (!this.#done) this.#client.resumeBody();
  }

  onResponseHead(head: ResponseHead, framing: BodyFraming): void {
    const client = this.#client;
    const request = this.#request;
    const next = head.status !== 101 && this.#attempts.mayRetry(head.status, this.#writer.bodySent) ? this.#attempts.next() : undefined;
    if (next !== undefined) {
      // Nothing of this response reaches the client: drop the connection (the rest of the
      // response is still arriving on it) and, once this read is unwound, send to the next server.
      this.#discarding = true;
      (this.#conn as UpstreamConnection).abort();
      this.#conn = undefined;
      process.nextTick(() => {
        this.#discarding = false;
        if (!this.#done) this.#sendTo(next.server, next.pool);
      });
      return;
    }
    this.#headSent = true;
    this.#record.status = head.status;
    this.#record.firstByteAt = now();
    if (head.status === 101) {
      this.#startTunnel(head);
      return;
    }
    // A declined upgrade is relayed, and the connection closed: the client may have sent
    // bytes of the new protocol already.
    const allowed = request.upgrade === undefined && client.keepAliveAfterResponse();
    const relayed = relayedHead(head, framing, request, client, allowed, this.#record.requestId);
    this.#keepAlive = relayed.keepAlive;
    this.#relay.head(relayed.text, framing === 'none', relayed.chunked);
  }

  onResponseBody(chunk: Buffer): void {
    if (this.#discarding) return;
    this.#record.bytesOut += chunk.length;
    this.#relay.body(chunk);
  }

  onResponseEnd(): void {
    if (this.#done || this.#discarding) return;
    this.#done = true;
    this.#attempts.settle();
    this.#conn = undefined;
    this.#relay.end();
    this.#client.finish(this.#keepAlive);
  }

  onResponseError(error: Error, resendable: boolean): void {
    this.#conn = undefined;
    if (this.#done || this.#discarding) return;
    if (resendable && !this.#resent && IDEMPOTENT.has(this.#request.method) && this.#writer.bodySent === 0) {
      // The keep-alive race: the upstream closed this idle connection as the request went
      // out, and nothing it could have acted on was sent. Once, on a new connection.
      this.#resent = true;
      (this.#pool as UpstreamPool).acquire(this, true);
      return;
    }
    if (this.#retried((error as { code?: string }).code === 'ERR_RESPONSE_TIMEOUT' ? 'timeout' : 'broken')) return;
    this.#failed(error);
  }

  onUpstreamFailure(error: Error): void {
    if (this.#done) return;
    const connectFailed = isConnectFailure(error);
    if (connectFailed) this.#attempts.connectFailed(this.#server as UpstreamServer, error, this.#client.logger);
    // Nothing of the request left the proxy: another server may be tried.
    if (connectFailed && this.#retried('connect')) return;
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
    this.#attempts.settle();
    this.#relay.stop();
    if (this.#conn !== undefined) this.#conn.abort();
    else this.#pool?.cancel(this);
    this.#conn = undefined;
  }

  #failed(error: Error): void {
    const pool = this.#pool as UpstreamPool;
    this.#done = true;
    this.#attempts.settle();
    const proxyError = toProxyError(error, pool.origin);
    this.#record.error = proxyError.code;
    logUpstreamError(this.#client.logger, proxyError, { upstream: pool.origin, host: this.#record.host, path: this.#record.path });
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
    // A 101 is accepted only for a request that asked to upgrade, so `upgrade` is set.
    socket.write(switchingHead(head, this.#request, upgrade as string), 'latin1');
    this.#done = true;
    this.#attempts.settle();
    this.#conn = undefined;
    const tunnel = new Tunnel(socket, conn);
    conn.handOver(tunnel);
    this.#client.becomeTunnel(tunnel);
  }
}
