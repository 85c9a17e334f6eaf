// The worker's side of the traffic metrics. One TrafficRecord per site, route and upstream
// server, made when a generation is compiled; the request path only bumps numbers in them
// (no allocation, no label hashing, no map look-up per request). A reload keeps the record of
// every series it keeps, so counters continue; series the new config lacks are dropped.
import { PROXY_REASONS, RECORD_LENGTH, SLOT, STATUS_CLASSES, bucketIndex, statusClassIndex, type ProxyReason } from './layout.ts';

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
  /** The last generation of the RecordBook that took or kept it. */
  generation = 0;

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
 * Every request is in flight, then in a status class: those six slots say whether a record ever
 * counted. One that did not has every counter at 0.
 */
export function hasCounted(record: TrafficRecord): boolean {
  const v = record.values;
  if (v[SLOT.inFlight] !== 0) return true;
  for (let i = 0; i < STATUS_CLASSES.length; i++) if (v[SLOT.statusClass + i] !== 0) return true;
  return false;
}

/**
 * Keeps a worker's records across generations. `take` hands out the record for a set of labels,
 * the same one as in the previous generation when it had it, and `keep` keeps one as it is;
 * `commit` drops the others and marks the reload point of those kept. A reload that keeps most
 * records touches each once, with no map work for the kept ones.
 */
export class RecordBook {
  readonly #records = new Map<string, TrafficRecord>();
  /** The generation being taken; the records of the committed one have `generation` one less. */
  #generation = 1;

  take(labels: RecordLabels): TrafficRecord {
    return this.#recordIn(labels, this.#generation);
  }

  /** The committed generation's record for these labels, kept for the one being taken; undefined when it had none. */
  held(labels: RecordLabels): TrafficRecord | undefined {
    const record = this.#records.get(recordKey(labels));
    if (record !== undefined) record.generation = this.#generation;
    return record;
  }

  /**
   * The record for these labels in the committed generation, made now if it had none: for a
   * series whose record is made at its first request (route-records.ts).
   */
  takeLate(labels: RecordLabels): TrafficRecord {
    return this.#recordIn(labels, this.#generation - 1);
  }

  /** The record for these labels (made if there is none), marked as one of `generation`'s. */
  #recordIn(labels: RecordLabels, generation: number): TrafficRecord {
    const key = recordKey(labels);
    let record = this.#records.get(key);
    if (record === undefined) this.#records.set(key, (record = new TrafficRecord(labels)));
    record.generation = generation;
    return record;
  }

  /** Keeps a record of the committed generation for the one being taken, as `take` of its labels would. */
  keep(record: TrafficRecord): void {
    record.generation = this.#generation;
  }

  commit(): void {
    for (const [key, record] of this.#records) {
      if (record.generation !== this.#generation) this.#records.delete(key);
      // A record that never counted has nothing to mark: its counters and its mark are all 0.
      else if (hasCounted(record)) record.atReload.set(record.values.subarray(0, SLOT.counterEnd));
    }
    this.#generation++;
  }

  records(): IterableIterator<TrafficRecord> {
    return this.#records.values();
  }
}
