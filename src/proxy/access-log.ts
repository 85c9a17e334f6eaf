// The two log events of the request path: `access` (one per request, only when access logging
// is on) and `upstream_error` (the cause behind a 502/504, which the client never sees).
import type { ReverseProxyError } from '../errors.ts';
import { processWriter, type Logger } from '../log.ts';
import type { MeteredRequest } from '../metrics/tap.ts';
import { now } from './read-clock.ts';

/** One request as the access log and the metrics see it (MeteredRequest: the metrics' fields). */
export interface AccessRecord extends MeteredRequest {
  method: string | undefined;
  host: string | undefined;
  path: string | undefined;
  status: number;
  upstream: string | undefined;
  /** The route that matched, or undefined when the site's own settings applied. */
  route: string | undefined;
  /** Sends to upstream servers: 1, plus one per retry (0 when the proxy answered itself). */
  attempts: number;
  /** When the request head arrived (read-clock.ts). */
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
  remote: string;
  error: string | undefined;
  /** The request ID sent upstream and back (request IDs on), else undefined. */
  requestId: string | undefined;
}

/** A new request's record, every field present from the start (one object shape for V8). */
export function newAccessRecord(method: string | undefined, path: string | undefined, remote: string): AccessRecord {
  return {
    method,
    host: undefined,
    path,
    status: 0,
    upstream: undefined,
    route: undefined,
    attempts: 0,
    startedAt: now(),
    bytesIn: 0,
    bytesOut: 0,
    remote,
    error: undefined,
    requestId: undefined,
    firstByteAt: 0,
    meter: undefined,
    routeMeter: undefined,
    serverMeter: undefined,
  };
}

/**
 * Access lines are gathered and written together, like nginx's `access_log … buffer= flush=`:
 * one write(2) for many requests instead of one each (a line per request cost about as much CPU
 * as proxying a small GET, in the worker and again in the master relaying its output;
 * bench/findings.md). A batch goes out when it would pass ACCESS_LOG_BATCH_BYTES or
 * ACCESS_LOG_FLUSH_MS after its first line. Batches are whole lines; a worker's stdout is a pipe
 * of its own that the master relays line-aligned (src/runtime/worker-output.ts), so a batch
 * larger than PIPE_BUF never interleaves with another process's lines.
 *
 * Each line is encoded into one reused buffer as soon as it is built, so its string dies young
 * (a batch held as a string lived through scavenges for up to 20 ms, and was flattened and
 * encoded again at the write); the buffer is written as it is, and the writer copies only what
 * stdout could not take at once.
 */
export const ACCESS_LOG_BATCH_BYTES = 65_536;
export const ACCESS_LOG_FLUSH_MS = 20;
/** A line's bytes are at most 3 per UTF-16 unit; a batch is flushed before a line could overflow it. */
const UTF8_BYTES_PER_UNIT = 3;
const batch = Buffer.allocUnsafeSlow(ACCESS_LOG_BATCH_BYTES);
let batchBytes = 0;
let flushTimer: NodeJS.Timeout | undefined;
const prefixes = new WeakMap<Logger, string>();

/** Writes the access lines gathered so far (drain calls it before the worker exits). */
export function flushAccessLog(): void {
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  if (batchBytes === 0) return;
  const bytes = batchBytes;
  batchBytes = 0;
  processWriter(1).write(batch.subarray(0, bytes));
}

/** What pino writes after `time` for this logger: its pid and bindings, and the event name. */
function prefixOf(logger: Logger): string {
  let prefix = prefixes.get(logger);
  if (prefix === undefined) {
    const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
    prefix = `","pid":${process.pid},${bindings === '' ? '' : `${bindings},`}"event":"access"`;
    prefixes.set(logger, prefix);
    process.once('exit', flushAccessLog);
  }
  return prefix;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** A value that may need JSON escaping (a path, a client's request ID), quoted. */
function quoted(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

let isoMs = 0;
let iso = '';

/** pino's isoTime, formatted once per millisecond. */
function isoTime(): string {
  const wallMs = Date.now();
  if (wallMs !== isoMs) {
    isoMs = wallMs;
    iso = new Date(wallMs).toISOString();
  }
  return iso;
}

/**
 * One `access` line, exactly as `logger.info({ event: 'access', … })` would write it, built by
 * hand and batched rather than serialized and written by pino one at a time. Fields that never
 * need escaping (a method is a token, a host normalized, an upstream an origin, a route name
 * letters, digits, "_" and "-", an IP, an error code) are put in as they are.
 */
export function logAccess(logger: Logger, record: AccessRecord): void {
  if (!logger.isLevelEnabled('info')) return;
  const durationMs = Math.round((now() - record.startedAt) * 1000) / 1000;
  const { method, host, path, upstream, route, error, requestId } = record;
  let line = `{"level":"info","time":"${isoTime()}${prefixOf(logger)}`;
  if (method !== undefined) line += `,"method":"${method}"`;
  if (host !== undefined) line += `,"host":"${host}"`;
  if (path !== undefined) line += `,"path":${quoted(path)}`;
  line +=
    `,"status":${record.status},"upstream":${upstream === undefined ? 'null' : `"${upstream}"`}` +
    `,"route":${route === undefined ? 'null' : `"${route}"`},"attempts":${record.attempts},"duration_ms":${durationMs}` +
    `,"bytes_in":${record.bytesIn},"bytes_out":${record.bytesOut},"remote":"${record.remote}"`;
  if (error !== undefined) line += `,"error":"${error}"`;
  line += requestId === undefined ? '}\n' : `,"request_id":${quoted(requestId)}}\n`;
  const mostBytes = line.length * UTF8_BYTES_PER_UNIT;
  if (batchBytes + mostBytes > ACCESS_LOG_BATCH_BYTES) flushAccessLog();
  // Only a line near the head limits (an 8 KiB path full of escapes) can be too long for a batch.
  if (mostBytes > ACCESS_LOG_BATCH_BYTES) return processWriter(1).write(line);
  batchBytes += batch.write(line, batchBytes);
  flushTimer ??= setTimeout(flushAccessLog, ACCESS_LOG_FLUSH_MS).unref();
}

export function logUpstreamError(logger: Logger, error: ReverseProxyError, where: { upstream: string | undefined; host: string | undefined; path: string | undefined }): void {
  logger.warn({ event: 'upstream_error', code: error.code, upstream: where.upstream, host: where.host, path: where.path }, error.message);
}
