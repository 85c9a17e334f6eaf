// The two log events of the request path: `access` (one per request, only when access logging
// is on) and `upstream_error` (the cause behind a 502/504, which the client never sees).
import type { ReverseProxyError } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface AccessRecord {
  method: string | undefined;
  host: string | undefined;
  path: string | undefined;
  status: number;
  upstream: string | undefined;
  /** performance.now() when the request head arrived. */
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
  remote: string;
  error: string | undefined;
}

export function logAccess(logger: Logger, record: AccessRecord): void {
  logger.info({
    event: 'access',
    method: record.method,
    host: record.host,
    path: record.path,
    status: record.status,
    upstream: record.upstream ?? null,
    duration_ms: Math.round((performance.now() - record.startedAt) * 1000) / 1000,
    bytes_in: record.bytesIn,
    bytes_out: record.bytesOut,
    remote: record.remote,
    ...(record.error === undefined ? {} : { error: record.error }),
  });
}

export function logUpstreamError(logger: Logger, error: ReverseProxyError, where: { upstream: string | undefined; host: string | undefined; path: string | undefined }): void {
  logger.warn({ event: 'upstream_error', code: error.code, upstream: where.upstream, host: where.host, path: where.path }, error.message);
}
