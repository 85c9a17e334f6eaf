// The worker's side of the traffic metrics. One TrafficRecord per site, route and upstream
// server, made when a generation is compiled; the request path only bumps numbers in them
// (no allocation, no label hashing, no map look-up per request). A reload keeps the record of
// every series it keeps, so counters continue; series the new config lacks are dropped.
import { PROXY_REASONS, RECORD_LENGTH, SLOT, bucketIndex, statusClassIndex, type ProxyReason } from './layout.ts';

/** Labels of one series set; bounded by the config, never by traffic. */
export interface RecordLabels {
  site: string;
  /** Set on a route's record: the route's `name`, else `routes[<index>]`. */
  route?: string;
  /** Set on an upstream server's record (its origin). */
  server?: string;
}

export class TrafficRecord {
  readonly labels: Readonly<RecordLabels>;
  /** recordKey(labels), worked out once. */
  readonly key: string;
  readonly values = new Float64Array(RECORD_LENGTH);
  /** The counters as they were at the last reload, for `show stat`'s "since the last reload". */
  readonly atReload = new Float64Array(SLOT.counterEnd);

  constructor(labels: RecordLabels) {
    this.labels = labels;
    this.key = recordKey(labels);
  }
}

/** A reason's slot offset, worked out once where a reply is decided rather than per request. */
export const REASON_INDEX: Readonly<Record<ProxyReason, number>> = Object.fromEntries(PROXY_REASONS.map((r, i) => [r, i])) as Record<ProxyReason, number>;
/** Pass as `reason` when the upstream, not the proxy, decided the reply. */
export const NO_REASON = -1;
/** Pass as `firstByteMs` when no upstream byte arrived (a proxy-made reply). */
export const NO_FIRST_BYTE = -1;

export function requestStarted(record: TrafficRecord): void {
  record.values[SLOT.inFlight]!++;
}

/**
 * Counts one finished request that requestStarted counted in flight. `reason` is a
 * REASON_INDEX value or NO_REASON; durations are milliseconds since the request head arrived.
 */
export function requestFinished(record: TrafficRecord, status: number, reason: number, bytesIn: number, bytesOut: number, durationMs: number, firstByteMs: number): void {
  const v = record.values;
  v[SLOT.inFlight]!--;
  countRequest(v, status, reason, bytesIn, bytesOut, durationMs, firstByteMs);
}

/** Counts a request that was refused before it was ever in flight (no site, bad request). */
export function requestRefused(record: TrafficRecord, status: number, reason: number, bytesIn: number, bytesOut: number, durationMs: number): void {
  countRequest(record.values, status, reason, bytesIn, bytesOut, durationMs, NO_FIRST_BYTE);
}

function countRequest(v: Float64Array, status: number, reason: number, bytesIn: number, bytesOut: number, durationMs: number, firstByteMs: number): void {
  v[SLOT.statusClass + statusClassIndex(status)]!++;
  if (reason >= 0) v[SLOT.reason + reason]!++;
  v[SLOT.bytesIn]! += bytesIn;
  v[SLOT.bytesOut]! += bytesOut;
  v[SLOT.duration.buckets + bucketIndex(durationMs)]!++;
  v[SLOT.duration.sum]! += durationMs / 1000;
  if (firstByteMs >= 0) {
    v[SLOT.firstByte.buckets + bucketIndex(firstByteMs)]!++;
    v[SLOT.firstByte.sum]! += firstByteMs / 1000;
  }
}

export function retryCounted(record: TrafficRecord): void {
  record.values[SLOT.retries]!++;
}

/** A traffic record as it crosses the IPC channel to the master. */
export interface RecordFigures {
  labels: RecordLabels;
  /** Every slot, counters and gauges, in layout order. */
  total: number[];
  /** The counters minus their value at the last reload. */
  sinceReload: number[];
}

export function recordFigures(record: TrafficRecord): RecordFigures {
  const total = Array.from(record.values);
  const sinceReload = total.slice(0, SLOT.counterEnd);
  for (let i = 0; i < sinceReload.length; i++) sinceReload[i]! -= record.atReload[i]!;
  return { labels: { ...record.labels }, total, sinceReload };
}

/** The key one series set is known by, in workers and in the master alike. */
export function recordKey(labels: RecordLabels): string {
  if (labels.route !== undefined) return `${labels.site}\u0000route\u0000${labels.route}`;
  return labels.server === undefined ? labels.site : `${labels.site}\u0000${labels.server}`;
}

/**
 * Keeps a worker's records across generations. `take` hands out the record for a set of labels,
 * the same one as in the previous generation when it had it; `commit` drops the rest and marks
 * the reload point of those kept.
 */
export class RecordBook {
  #records = new Map<string, TrafficRecord>();
  #next = new Map<string, TrafficRecord>();

  take(labels: RecordLabels): TrafficRecord {
    const key = recordKey(labels);
    const record = this.#next.get(key) ?? this.#records.get(key) ?? new TrafficRecord(labels);
    this.#next.set(key, record);
    return record;
  }

  /** Keeps a record of the current generation for the next one, as `take` of its labels would. */
  keep(record: TrafficRecord): void {
    this.#next.set(record.key, record);
  }

  commit(): void {
    for (const record of this.#next.values()) record.atReload.set(record.values.subarray(0, SLOT.counterEnd));
    this.#records = this.#next;
    this.#next = new Map();
  }

  records(): IterableIterator<TrafficRecord> {
    return this.#records.values();
  }
}
