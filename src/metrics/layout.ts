// Where each figure of one traffic record (a site, a route or an upstream server) lives in its
// Float64Array. The worker increments slots by index on the request path; the master sums the
// same slots across workers; the exposition and `show stat` read them by the same names. One
// layout for every kind of record keeps those three in step.

/** Status classes a request is counted under, whoever made the reply. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/**
 * Why the proxy, not the upstream, decided how a request ended. `client_closed` and `drain_cut`
 * are counted even when the client never saw a reply.
 */
export const PROXY_REASONS = ['no_route', 'rate_limited', 'body_too_large', 'connect_failed', 'upstream_timeout', 'client_closed', 'drain_cut'] as const;
export type ProxyReason = (typeof PROXY_REASONS)[number];

/**
 * Upper bounds (seconds) of the duration histograms' buckets; +Inf is implied. Fixed, so every
 * worker's buckets add up and a scrape's size does not depend on traffic.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The same bounds in milliseconds, which is what the request path measures in. */
const DURATION_BUCKETS_MS: Float64Array = Float64Array.from(DURATION_BUCKETS_SECONDS, (s) => s * 1000);
/** Buckets stored per histogram: one per bound plus +Inf. Stored per bucket, not cumulative. */
export const BUCKET_COUNT = DURATION_BUCKETS_SECONDS.length + 1;

/** A histogram's slots: BUCKET_COUNT bucket counts, then the sum of observations in seconds. */
export interface HistogramSlots {
  readonly buckets: number;
  readonly sum: number;
}

function histogramAt(offset: number): HistogramSlots {
  return { buckets: offset, sum: offset + BUCKET_COUNT };
}

const CLASS_BASE = 0;
const REASON_BASE = CLASS_BASE + STATUS_CLASSES.length;
const BYTES_IN = REASON_BASE + PROXY_REASONS.length;
const BYTES_OUT = BYTES_IN + 1;
const RETRIES = BYTES_OUT + 1;
const DURATION = histogramAt(RETRIES + 1);
const FIRST_BYTE = histogramAt(DURATION.sum + 1);
const COUNTER_END = FIRST_BYTE.sum + 1;

/** Slot indexes of one traffic record. Slots below `counterEnd` only ever grow. */
export const SLOT = {
  statusClass: CLASS_BASE,
  reason: REASON_BASE,
  bytesIn: BYTES_IN,
  bytesOut: BYTES_OUT,
  retries: RETRIES,
  duration: DURATION,
  firstByte: FIRST_BYTE,
  /** Counters end here; what follows are gauges, which a dead worker does not carry forward. */
  counterEnd: COUNTER_END,
  inFlight: COUNTER_END,
} as const;

export const RECORD_LENGTH = SLOT.inFlight + 1;

/** Index into STATUS_CLASSES for an HTTP status (anything out of range counts as 5xx). */
export function statusClassIndex(status: number): number {
  const index = Math.floor(status / 100) - 1;
  return index >= 0 && index < STATUS_CLASSES.length ? index : STATUS_CLASSES.length - 1;
}

/** Bucket index for a duration in milliseconds: the first bound it does not exceed. */
export function bucketIndex(ms: number): number {
  const bounds = DURATION_BUCKETS_MS;
  for (let i = 0; i < bounds.length; i++) if (ms <= (bounds[i] as number)) return i;
  return bounds.length;
}

/** Total observations of a histogram stored in `values` (the sum of its buckets). */
export function histogramCount(values: ArrayLike<number>, slots: HistogramSlots): number {
  let count = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) count += values[slots.buckets + i] as number;
  return count;
}

/**
 * The q-quantile (0..1) of a histogram in seconds, interpolated linearly inside its bucket as
 * Prometheus's histogram_quantile does; undefined without observations. A quantile that falls in
 * the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(values: ArrayLike<number>, slots: HistogramSlots, q: number): number | undefined {
  const count = histogramCount(values, slots);
  if (count === 0) return undefined;
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) {
    const inBucket = values[slots.buckets + i] as number;
    if (seen + inBucket >= rank && inBucket > 0) {
      const upper = DURATION_BUCKETS_SECONDS[i];
      if (upper === undefined) return DURATION_BUCKETS_SECONDS[DURATION_BUCKETS_SECONDS.length - 1];
      const lower = i === 0 ? 0 : (DURATION_BUCKETS_SECONDS[i - 1] as number);
      return lower + (upper - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return DURATION_BUCKETS_SECONDS[DURATION_BUCKETS_SECONDS.length - 1];
}
