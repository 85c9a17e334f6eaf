// The upstream pools of a worker, shared across generations. A pool is keyed by origin, connect
// timeout, connection cap and TLS settings (the pool-level settings a site controls), so a reload that keeps
// an upstream keeps its warm connections; pools no generation uses any more are closed
// gracefully, which lets the requests already queued or running on them finish first.
import { createHash } from 'node:crypto';
import { UpstreamPool, type UpstreamTls } from './http1/upstream-pool.ts';

export { UpstreamPool, type UpstreamTls } from './http1/upstream-pool.ts';

const DEFAULT_UPSTREAM_TLS: UpstreamTls = { ca: undefined, servername: undefined, verify: true };

function poolKey(origin: string, connectTimeoutMs: number, maxConnections: number, tls: UpstreamTls): string {
  const plain = `${origin} ${connectTimeoutMs} ${maxConnections}`;
  if (!origin.startsWith('https:')) return plain;
  const ca = tls.ca === undefined ? '-' : createHash('sha256').update(tls.ca).digest('hex');
  return `${plain} ${tls.verify} ${tls.servername ?? '-'} ${ca}`;
}

export class UpstreamPools {
  readonly #pools = new Map<string, UpstreamPool>();
  /** Pools no generation uses any more, until their last connection closed. */
  readonly #closing = new Set<UpstreamPool>();

  /** The pool for these settings, creating it if no generation had one. */
  get(origin: string, connectTimeoutMs: number, maxConnections: number, tls: UpstreamTls = DEFAULT_UPSTREAM_TLS): UpstreamPool {
    const key = poolKey(origin, connectTimeoutMs, maxConnections, tls);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new UpstreamPool(origin, connectTimeoutMs, maxConnections, tls);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes, after their in-flight requests, every pool not in `inUse`. */
  retainOnly(inUse: ReadonlySet<UpstreamPool>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, pool] of this.#pools) {
      if (inUse.has(pool)) continue;
      this.#pools.delete(key);
      this.#closing.add(pool);
      closing.push(pool.close().then(() => void this.#closing.delete(pool)));
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Upstream connections open or opening, in the pools in use and in those still closing. */
  get openConnections(): number {
    let open = 0;
    for (const pool of this.#pools.values()) open += pool.openConnections;
    for (const pool of this.#closing) open += pool.openConnections;
    return open;
  }

  /** Stops every pool at once (shutdown after the drain deadline). */
  destroyAll(): void {
    for (const pool of this.#pools.values()) pool.destroy();
    this.#pools.clear();
  }

  closeAll(): Promise<void> {
    return this.retainOnly(new Set());
  }
}
