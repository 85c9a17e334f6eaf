// Where the request path meets the metrics: a few calls, each a handful of array increments.
// `meterRouted` when a request has a site (it is in flight from then on), `meterRoute` when one
// of the site's routes matched, `meterUpstream` each
// time it is sent to an upstream server (a second call is a retry), `meterEnd` once, where the
// access-log record is complete. The record's error code decides the proxy-made reason, so the
// request path only has to say what it already says to the access log.
import { NO_FIRST_BYTE, NO_REASON, REASON_INDEX, requestFinished, requestRefused, requestStarted, retryCounted, type TrafficRecord } from './recorder.ts';
import type { GenerationRecords, SiteRecords } from './worker-metrics.ts';

/** The error codes of the request path (src/errors.ts, admission, the engine) that are proxy-made outcomes. */
const REASON_BY_CODE: ReadonlyMap<string, number> = new Map([
  ['ERR_NO_SITE', REASON_INDEX.no_route],
  ['ERR_NO_ROUTE', REASON_INDEX.no_route],
  ['ERR_RATE_LIMITED', REASON_INDEX.rate_limited],
  ['ERR_BODY_LIMIT', REASON_INDEX.body_too_large],
  ['ERR_UPSTREAM_UNREACHABLE', REASON_INDEX.connect_failed],
  ['ERR_UPSTREAM_TIMEOUT', REASON_INDEX.upstream_timeout],
  ['ERR_CLIENT_CLOSED', REASON_INDEX.client_closed],
  ['ERR_CLIENT_SEND_TIMEOUT', REASON_INDEX.client_closed],
  ['ERR_DRAIN_CUT', REASON_INDEX.drain_cut],
]);

/** What the access-log record carries for the metrics (AccessRecord has these fields). */
export interface MeteredRequest {
  status: number;
  error: string | undefined;
  bytesIn: number;
  bytesOut: number;
  /** performance.now() when the request head arrived. */
  startedAt: number;
  /** performance.now() when the upstream's response head arrived; 0 while none has. */
  firstByteAt: number;
  /** The records of the site that took the request; undefined until it has one. */
  meter: SiteRecords | undefined;
  /** The record of the route that matched, once one has. */
  routeMeter: TrafficRecord | undefined;
  /** The record of the upstream server it is being sent to, once it is. */
  serverMeter: TrafficRecord | undefined;
}

export function meterRouted(request: MeteredRequest, site: SiteRecords): void {
  request.meter = site;
  requestStarted(site.site);
}

/** A route of the request's site matched: `route` is that route's record (SiteRecords.routeByName). */
export function meterRoute(request: MeteredRequest, route: TrafficRecord): void {
  request.routeMeter = route;
  requestStarted(route);
}

/** The request goes to `origin` (one of its site's servers); a second call for one request is a retry. */
export function meterUpstream(request: MeteredRequest, origin: string, now: number): void {
  const site = request.meter;
  if (site === undefined) return;
  const previous = request.serverMeter;
  if (previous !== undefined) {
    // The earlier attempt failed (a refused connect, a reset, a retried status): its server counts it as a 5xx.
    requestFinished(previous, 502, NO_REASON, 0, 0, now - request.startedAt, NO_FIRST_BYTE);
    retryCounted(site.site);
  }
  const servers = site.servers;
  let server: TrafficRecord | undefined;
  for (let i = 0; i < servers.length; i++) {
    if ((servers[i] as TrafficRecord).labels.server === origin) {
      server = servers[i];
      break;
    }
  }
  request.serverMeter = server;
  if (server !== undefined) requestStarted(server);
}

/** Counts the finished request; `records` is the generation it ran on (undefined before any config). */
export function meterEnd(records: GenerationRecords | undefined, request: MeteredRequest, now: number): void {
  const error = request.error;
  const reason = error === undefined ? NO_REASON : (REASON_BY_CODE.get(error) ?? NO_REASON);
  const durationMs = now - request.startedAt;
  const firstByteMs = request.firstByteAt > 0 ? request.firstByteAt - request.startedAt : NO_FIRST_BYTE;
  const site = request.meter;
  if (site === undefined) {
    if (records !== undefined) requestRefused(records.unrouted, request.status, reason, request.bytesIn, request.bytesOut, durationMs);
    return;
  }
  requestFinished(site.site, request.status, reason, request.bytesIn, request.bytesOut, durationMs, firstByteMs);
  const route = request.routeMeter;
  if (route !== undefined) requestFinished(route, request.status, reason, request.bytesIn, request.bytesOut, durationMs, firstByteMs);
  const server = request.serverMeter;
  if (server !== undefined) requestFinished(server, request.status, reason, request.bytesIn, request.bytesOut, durationMs, firstByteMs);
}
