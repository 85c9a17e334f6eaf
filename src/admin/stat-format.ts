// `show stat` and `show stat json`: one row per site and per upstream server of it, counted
// since the last reload (or start), like HAProxy's `show stat` after a reload. The CSV keeps
// HAProxy's field names where one exists, so `cut -d, -f` habits carry over.
import type { AggregatedRecord, AggregatedView } from '../metrics/aggregator.ts';
import { PROXY_REASONS, SLOT, STATUS_CLASSES, histogramCount, histogramQuantile } from '../metrics/layout.ts';
import { UNROUTED_SITE } from '../metrics/series.ts';

/** `svname` of the row that sums a whole site (HAProxy's is BACKEND). */
const SITE_ROW = 'SITE';
/** `svname` of a route's row: this, then the route's name. */
const ROUTE_ROW_PREFIX = 'ROUTE:';

const STAT_FIELDS = ['pxname', 'svname', 'req_tot', 'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'scur', 'bin', 'bout', 'p50_ms', 'p99_ms', 'status'] as const;

interface StatRow {
  site: string;
  /** The route's name on a route's row, else null. */
  route: string | null;
  /** The upstream server's origin on a server's row, else null. */
  server: string | null;
  requests: number;
  status_classes: Record<string, number>;
  proxy_outcomes: Record<string, number>;
  in_flight: number;
  bytes_in: number;
  bytes_out: number;
  /** Interpolated inside the histogram's bucket, as Prometheus does; null before any request. */
  p50_ms: number | null;
  p99_ms: number | null;
  /** Servers: UP or DOWN (out of rotation in some worker). Sites: UP while a server is. The unrouted row: "-". */
  status: 'UP' | 'DOWN' | '-';
}

function quantileMs(record: AggregatedRecord, q: number): number | null {
  const seconds = histogramQuantile(record.sinceReload, SLOT.duration, q);
  return seconds === undefined ? null : Math.round(seconds * 1e6) / 1e3;
}

function statRows(view: AggregatedView): StatRow[] {
  const up = new Map(view.upstreams.map((u) => [u.server, u.up]));
  const serverUp = (server: string) => up.get(server) !== false;
  const servedBy = new Map<string, string[]>();
  for (const r of view.records) if (r.labels.server !== undefined) servedBy.set(r.labels.site, [...(servedBy.get(r.labels.site) ?? []), r.labels.server]);
  return view.records.map((r): StatRow => {
    const since = r.sinceReload;
    const server = r.labels.server;
    let status: StatRow['status'];
    if (server !== undefined) status = serverUp(server) ? 'UP' : 'DOWN';
    else if (r.labels.site === UNROUTED_SITE || r.labels.route !== undefined) status = '-';
    else status = (servedBy.get(r.labels.site) ?? []).some(serverUp) ? 'UP' : 'DOWN';
    return {
      site: r.labels.site,
      route: r.labels.route ?? null,
      server: server ?? null,
      requests: histogramCount(since, SLOT.duration),
      status_classes: Object.fromEntries(STATUS_CLASSES.map((c, i) => [c, since[SLOT.statusClass + i]!])),
      proxy_outcomes: Object.fromEntries(PROXY_REASONS.map((reason, i) => [reason, since[SLOT.reason + i]!])),
      in_flight: r.total[SLOT.inFlight]!,
      bytes_in: since[SLOT.bytesIn]!,
      bytes_out: since[SLOT.bytesOut]!,
      p50_ms: quantileMs(r, 0.5),
      p99_ms: quantileMs(r, 0.99),
      status,
    };
  });
}

export function formatStat(view: AggregatedView): string {
  const lines = [`# ${STAT_FIELDS.join(',')}`];
  for (const row of statRows(view)) {
    const classes = STATUS_CLASSES.map((c) => String(row.status_classes[c]));
    const ms = (v: number | null) => (v === null ? '' : String(v));
    const svname = row.route !== null ? `${ROUTE_ROW_PREFIX}${row.route}` : (row.server ?? SITE_ROW);
    lines.push([row.site, svname, String(row.requests), ...classes, String(row.in_flight), String(row.bytes_in), String(row.bytes_out), ms(row.p50_ms), ms(row.p99_ms), row.status].join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function formatStatJson(view: AggregatedView): string {
  return `${JSON.stringify(statRows(view))}\n`;
}
