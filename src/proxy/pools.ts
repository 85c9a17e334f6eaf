// Keep-alive connection pools to upstreams, shared across generations. A pool is keyed by origin
// and connect timeout (the only pool-level setting a site controls), so a reload that keeps an
// upstream keeps its warm connections; pools no generation uses any more are closed gracefully,
// which lets the requests already queued or running on them finish first.
import { Pool } from 'undici';
import { UPSTREAM_KEEP_ALIVE_TIMEOUT_MS } from './limits.ts';

export interface UpstreamPool {
  readonly origin: string;
  readonly pool: Pool;
}

function poolKey(origin: string, connectTimeoutMs: number): string {
  return `${origin} ${connectTimeoutMs}`;
}

export class UpstreamPools {
  readonly #pools = new Map<string, UpstreamPool>();

  get size(): number {
    return this.#pools.size;
  }

  /** The pool for this origin and connect timeout, creating it if no generation had one. */
  get(origin: string, connectTimeoutMs: number): UpstreamPool {
    const key = poolKey(origin, connectTimeoutMs);
    let entry = this.#pools.get(key);
    if (entry === undefined) {
      const pool = new Pool(origin, {
        connectTimeout: connectTimeoutMs,
        keepAliveTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
        // Upgrades (WebSocket) need HTTP/1.1; an https upstream must not negotiate h2.
        allowH2: false,
      });
      entry = { origin, pool };
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
