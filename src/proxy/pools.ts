// Keep-alive connection pools to upstreams, shared across generations. A pool is keyed by origin
// and connect timeout (the only pool-level setting a site controls), so a reload that keeps an
// upstream keeps its warm connections; pools no generation uses any more are closed gracefully,
// which lets the requests already queued or running on them finish first.
import { isIP } from 'node:net';
import type { Dispatcher } from 'undici';
import { buildConnector, Pool, type Connector } from './undici-pool.ts';
import { UPSTREAM_FAIL_TIMEOUT_MS, UPSTREAM_KEEP_ALIVE_TIMEOUT_MS } from './limits.ts';

export interface UpstreamPool {
  readonly origin: string;
  readonly pool: Pool;
  /**
   * Fixed per upstream for an https origin (its host name). undici would otherwise derive the
   * TLS server name from the forwarded Host header: verify the upstream's certificate against
   * the client's host, and reconnect whenever that host changes.
   */
  readonly servername: string | undefined;
  /** performance.now() until which round-robin skips this upstream after a failed connect. */
  downUntil: number;
}

/**
 * Takes an upstream out of round-robin for UPSTREAM_FAIL_TIMEOUT_MS after a failed connect, like
 * nginx's max_fails=1 fail_timeout=10s. Returns true when it was in rotation until now.
 */
export function ejectUpstream(upstream: UpstreamPool, now: number = performance.now()): boolean {
  const wasUp = upstream.downUntil <= now;
  upstream.downUntil = now + UPSTREAM_FAIL_TIMEOUT_MS;
  return wasUp;
}

/**
 * undici's Request accepts `servername` per request although the published DispatchOptions
 * type leaves it out.
 */
export type UpstreamDispatchOptions = Dispatcher.DispatchOptions & { servername?: string | undefined };

function poolKey(origin: string, connectTimeoutMs: number): string {
  return `${origin} ${connectTimeoutMs}`;
}

function createPool(origin: string, connectTimeoutMs: number): UpstreamPool {
  const url = new URL(origin);
  const common = { keepAliveTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS, allowH2: false };
  if (url.protocol !== 'https:') {
    return { origin, pool: new Pool(origin, { ...common, connectTimeout: connectTimeoutMs }), servername: undefined, downUntil: 0 };
  }
  // The certificate is checked against the upstream's own name, like nginx's default
  // `proxy_ssl_name $proxy_host`; an IP address gets no SNI and is checked against the IP.
  // (Upgrades need HTTP/1.1, so h2 is never offered.)
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const sni = isIP(hostname) === 0 ? hostname : undefined;
  const base = buildConnector({ timeout: connectTimeoutMs, allowH2: false });
  const connect: Connector = (options, callback) => base({ ...options, servername: sni }, callback);
  return { origin, pool: new Pool(origin, { ...common, connect }), servername: hostname, downUntil: 0 };
}

export class UpstreamPools {
  readonly #pools = new Map<string, UpstreamPool>();

  /** The pool for this origin and connect timeout, creating it if no generation had one. */
  get(origin: string, connectTimeoutMs: number): UpstreamPool {
    const key = poolKey(origin, connectTimeoutMs);
    let entry = this.#pools.get(key);
    if (entry === undefined) {
      entry = createPool(origin, connectTimeoutMs);
      this.#pools.set(key, entry);
    }
    return entry;
  }

  /** Closes, after their in-flight requests, every pool not in `inUse`. */
  retainOnly(inUse: ReadonlySet<UpstreamPool>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.#pools) {
      if (inUse.has(entry)) continue;
      this.#pools.delete(key);
      closing.push(entry.pool.close());
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Stops every pool at once (shutdown after the drain deadline). */
  destroyAll(): Promise<void> {
    const entries = [...this.#pools.values()];
    this.#pools.clear();
    return Promise.all(entries.map((e) => e.pool.destroy())).then(() => undefined);
  }

  closeAll(): Promise<void> {
    return this.retainOnly(new Set());
  }
}
