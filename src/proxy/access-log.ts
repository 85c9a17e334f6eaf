// The two log events of the request path: `access` (one per request, only when access logging
// is on) and `upstream_error` (the cause behind a 502/504, which the client never sees).
import type { ReverseProxyError } from '../errors.ts';
import { processWriter, type Logger } from '../log.ts';
import type { MeteredRequest } from '../metrics/tap.ts';

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
  /** performance.now() when the request head arrived. */
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
    startedAt: performance.now(),
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
 */
export const ACCESS_LOG_BATCH_BYTES = 65_536;
export const ACCESS_LOG_FLUSH_MS = 20;
let batch = '';
let flushTimer: NodeJS.Timeout | undefined;
const prefixes = new WeakMap<Logger, string>();

/** Writes the access lines gathered so far (drain calls it before the worker exits). */
export function flushAccessLog(): void {
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  if (batch === '') return;
  const lines = batch;
  batch = '';
  processWriter(1).write(lines);
}

/** What pino writes after `time` for this logger: its pid and bindings. */
function prefixOf(logger: Logger): string {
  let prefix = prefixes.get(logger);
  if (prefix === undefined) {
    const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
    prefix = `"pid":${process.pid},${bindings === '' ? '' : `${bindings},`}"event":"access"`;
    prefixes.set(logger, prefix);
    process.once('exit', flushAccessLog);
  }
  return prefix;
}

/** A field whose value never needs JSON escaping: a method (tchar), a normalized host, an IP, an origin, an error code. */
function plain(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":"${value}"`;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** A client's request ID is visible ASCII (usableRequestId) but may hold `"` or `\\`. */
function requestIdField(id: string | undefined): string {
  if (id === undefined) return '';
  return `,"request_id":${NEEDS_ESCAPE.test(id) ? JSON.stringify(id) : `"${id}"`}`;
}

let isoMs = 0;
let iso = '';

/** pino's isoTime, formatted once per millisecond. */
function isoTime(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

/**
 * One `access` line, exactly as `logger.info({ event: 'access', … })` would write it, built by
 * hand and batched per turn rather than serialized and written by pino one at a time.
 */
export function logAccess(logger: Logger, record: AccessRecord): void {
  if (!logger.isLevelEnabled('info')) return;
  const durationMs = Math.round((performance.now() - record.startedAt) * 1000) / 1000;
  const path = record.path;
  const line =
    `{"level":"info","time":"${isoTime()}",${prefixOf(logger)}` +
    `${plain('method', record.method)}${plain('host', record.host)}${path === undefined ? '' : `,"path":${NEEDS_ESCAPE.test(path) ? JSON.stringify(path) : `"${path}"`}`}` +
    `,"status":${record.status},"upstream":${record.upstream === undefined ? 'null' : `"${record.upstream}"`}` +
    // Route names are letters, digits, "_", "-" (or routes[N]): nothing to escape.
    `,"route":${record.route === undefined ? 'null' : `"${record.route}"`},"attempts":${record.attempts},"duration_ms":${durationMs}` +
    `,"bytes_in":${record.bytesIn},"bytes_out":${record.bytesOut}${plain('remote', record.remote)}${plain('error', record.error)}${requestIdField(record.requestId)}}\n`;
  if (batch.length + line.length > ACCESS_LOG_BATCH_BYTES) flushAccessLog();
  batch += line;
  flushTimer ??= setTimeout(flushAccessLog, ACCESS_LOG_FLUSH_MS).unref();
}

export function logUpstreamError(logger: Logger, error: ReverseProxyError, where: { upstream: string | undefined; host: string | undefined; path: string | undefined }): void {
  logger.warn({ event: 'upstream_error', code: error.code, upstream: where.upstream, host: where.host, path: where.path }, error.message);
}
