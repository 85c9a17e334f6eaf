// Token bucket per client IP: each request takes one token; tokens refill at `rps` per second
// up to `burst`. Buckets live in the worker process that serves the request, so with N workers
// a client may get up to N× the configured rate (documented in docs/data-path.md).
import { MAX_RATE_LIMIT_CLIENTS, RATE_LIMIT_SWEEP_INTERVAL_MS } from './limits.ts';
import { now as clockNow } from './read-clock.ts';

interface Bucket {
  tokens: number;
  /** performance.now() of the last refill. */
  refilledAt: number;
}

export interface RateLimitSettings {
  rps: number;
  burst: number;
}

export class RateLimiter {
  readonly rps: number;
  readonly burst: number;
  readonly #maxClients: number;
  readonly #buckets = new Map<string, Bucket>();
  #sweptAt = 0;

  constructor(settings: RateLimitSettings, maxClients = MAX_RATE_LIMIT_CLIENTS) {
    this.rps = settings.rps;
    this.burst = settings.burst;
    this.#maxClients = maxClients;
  }

  /** Clients currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token for `client`. Returns 0 when the request may pass, otherwise the whole
   * number of seconds (≥ 1) after which a token will be available — the `Retry-After` value.
   */
  take(client: string, now: number = clockNow()): number {
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      this.#makeRoom(now);
      bucket = { tokens: this.burst, refilledAt: now };
      this.#buckets.set(client, bucket);
    } else {
      bucket.tokens = this.#tokensAt(bucket, now);
      bucket.refilledAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rps));
  }

  #tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * this.rps);
  }

  /**
   * Keeps the table bounded. A full bucket carries no information (a new client starts full),
   * so those are forgotten first; if every tracked client is still being limited, the
   * oldest-tracked one goes. Sweeps are spaced out so a flood of new IPs costs O(1) each.
   */
  #makeRoom(now: number): void {
    if (this.#buckets.size < this.#maxClients) return;
    if (now - this.#sweptAt >= RATE_LIMIT_SWEEP_INTERVAL_MS) {
      this.#sweptAt = now;
      for (const [client, bucket] of this.#buckets) {
        if (this.#tokensAt(bucket, now) >= this.burst) this.#buckets.delete(client);
      }
    }
    if (this.#buckets.size >= this.#maxClients) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}
