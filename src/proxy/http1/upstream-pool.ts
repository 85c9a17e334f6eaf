// Keep-alive connections to one upstream origin, per worker: reuse of idle connections (most
// recently used first: the warmest, and the least likely to have been closed by the upstream),
// at most `max_connections` open at once with a FIFO queue behind the cap, and idle and queue
// timeouts checked on the worker's deadline tick.
import { isIP } from 'node:net';
import { UpstreamIoError } from '../../errors.ts';
import { UPSTREAM_KEEP_ALIVE_TIMEOUT_MS } from '../limits.ts';
import { now } from '../read-clock.ts';
import { unwatch, watch, type Ticking } from './deadlines.ts';
import { UpstreamConnection } from './upstream-connection.ts';
import type { UpstreamTarget } from './upstream-dial.ts';
import type { ConnectionOwner } from './upstream-sides.ts';

/** A request waiting for a connection. */
export interface PoolWaiter {
  onUpstreamConnection(conn: UpstreamConnection): void;
  onUpstreamFailure(error: Error): void;
}

interface Queued {
  readonly waiter: PoolWaiter;
  readonly since: number;
}

/** How to talk TLS to an https:// upstream (a site's `tls_*` keys, with the CA file's text). */
export interface UpstreamTls {
  /** PEM bundle trusted instead of the system CAs. */
  ca: string | undefined;
  /** Replaces the upstream's host name for SNI and the certificate check (`tls_servername`). */
  servername: string | undefined;
  verify: boolean;
}

export class UpstreamPool implements ConnectionOwner, Ticking {
  readonly origin: string;
  /** `host:port` as the upstream's own Host header (sites with preserve_host = false). */
  readonly authority: string;
  readonly #target: UpstreamTarget;
  readonly #max: number;
  readonly #idle: UpstreamConnection[] = [];
  /** Who each connection being opened is for; undefined once that waiter gave up. */
  readonly #opening = new Map<UpstreamConnection, PoolWaiter | undefined>();
  readonly #queue: Queued[] = [];
  /** Connections counted against the cap: opening, idle and busy. */
  #open = 0;
  #closing = false;
  #closed: (() => void) | undefined;

  constructor(origin: string, connectTimeoutMs: number, maxConnections: number, upstreamTls: UpstreamTls) {
    this.origin = origin;
    const url = new URL(origin);
    this.authority = url.host;
    const tls = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // The certificate is checked against the upstream's own name, like nginx's default
    // `proxy_ssl_name $proxy_host`, or against tls_servername; an IP address gets no SNI and is
    // checked against the IP.
    const name = upstreamTls.servername ?? host;
    const servername = tls && isIP(name) === 0 ? name : undefined;
    const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
    this.#target = { host, port, tls, servername, connectTimeoutMs, ca: upstreamTls.ca, rejectUnauthorized: upstreamTls.verify };
    this.#max = maxConnections;
    watch(this);
  }

  /** Connections open or opening now (for tests and `show`). */
  get openConnections(): number {
    return this.#open;
  }

  /** Connections kept alive, waiting for the next request. */
  get idleConnections(): number {
    return this.#idle.length;
  }

  /**
   * Hands `waiter` a connection: an idle one, a new one, or the next one freed. `fresh` skips
   * the idle ones (the retry after a reused connection failed).
   */
  acquire(waiter: PoolWaiter, fresh = false): void {
    if (!fresh) {
      const idle = this.#idle.pop();
      if (idle !== undefined) {
        waiter.onUpstreamConnection(idle);
        return;
      }
    }
    if (this.#open >= this.#max && fresh) this.#idle.shift()?.close();
    if (this.#open < this.#max) {
      this.#connect(waiter);
      return;
    }
    this.#queue.push({ waiter, since: now() });
  }

  /** The waiter no longer wants a connection (its client went away). */
  cancel(waiter: PoolWaiter): void {
    const index = this.#queue.findIndex((q) => q.waiter === waiter);
    if (index >= 0) this.#queue.splice(index, 1);
    for (const [conn, pending] of this.#opening) if (pending === waiter) this.#opening.set(conn, undefined);
  }

  #connect(waiter: PoolWaiter): void {
    this.#open++;
    const conn = new UpstreamConnection(this.#target, this);
    this.#opening.set(conn, waiter);
  }

  connected(conn: UpstreamConnection): void {
    const waiter = this.#opening.get(conn);
    this.#opening.delete(conn);
    if (waiter !== undefined) waiter.onUpstreamConnection(conn);
    else this.reusable(conn);
  }

  connectFailed(conn: UpstreamConnection, error: Error): void {
    const waiter = this.#opening.get(conn);
    this.#opening.delete(conn);
    this.#open--;
    waiter?.onUpstreamFailure(error);
    this.#settle();
  }

  reusable(conn: UpstreamConnection): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      next.waiter.onUpstreamConnection(conn);
      return;
    }
    if (this.#closing) {
      conn.close();
      return;
    }
    conn.idleSince = now();
    this.#idle.push(conn);
  }

  lost(conn: UpstreamConnection): void {
    this.#open--;
    const index = this.#idle.indexOf(conn);
    if (index >= 0) this.#idle.splice(index, 1);
    // A slot is free: the first queued request gets a new connection.
    const next = this.#queue.shift();
    if (next !== undefined) this.#connect(next.waiter);
    this.#settle();
  }

  onTick(now: number): void {
    while (this.#idle.length > 0 && now - (this.#idle[0] as UpstreamConnection).idleSince >= UPSTREAM_KEEP_ALIVE_TIMEOUT_MS) {
      (this.#idle.shift() as UpstreamConnection).close();
    }
    // HAProxy's `timeout queue` defaults to the connect timeout: a request waits for a free
    // connection no longer than it would wait for a new one.
    while (this.#queue.length > 0 && now - (this.#queue[0] as Queued).since >= this.#target.connectTimeoutMs) {
      (this.#queue.shift() as Queued).waiter.onUpstreamFailure(new UpstreamIoError('ERR_QUEUE_TIMEOUT', `no free connection within connect_timeout_secs (max_connections ${this.#max})`));
    }
  }

  /**
   * Closes idle connections now, and connects nobody waits for any more (their client left): a
   * closing pool would only close them once up, or hold the drain until their connect timeout.
   * The others close once their requests are done.
   */
  close(): Promise<void> {
    this.#closing = true;
    for (const conn of this.#idle.splice(0)) conn.close();
    for (const [conn, waiter] of this.#opening) if (waiter === undefined) conn.close();
    const done = new Promise<void>((resolve) => (this.#closed = resolve));
    this.#settle();
    return done;
  }

  /** Closes every idle and opening connection at once and fails whatever waits (busy ones end with their clients). */
  destroy(): void {
    this.#closing = true;
    for (const queued of this.#queue.splice(0)) queued.waiter.onUpstreamFailure(new UpstreamIoError('ERR_POOL_CLOSED', 'shutting down'));
    for (const conn of this.#idle.splice(0)) conn.close();
    for (const conn of this.#opening.keys()) conn.close();
    this.#settle();
  }

  #settle(): void {
    if (!this.#closing || this.#open > 0 || this.#queue.length > 0) return;
    unwatch(this);
    this.#closed?.();
  }
}
