// The master's scrape: the summed traffic records of every worker, the upstreams' state and the
// per-process figures, as Prometheus families. Names follow Prometheus conventions (prefix,
// base units, `_total` on counters); docs/metrics.md lists every one with its labels.
import type { AggregatedRecord, AggregatedView } from './aggregator.ts';
import type { ProcessFigures } from './figures.ts';
import { BUCKET_COUNT, DURATION_BUCKETS_SECONDS, PROXY_REASONS, SLOT, STATUS_CLASSES, type HistogramSlots } from './layout.ts';
import { formatValue, renderFamilies, type Family, type Sample } from './text-format.ts';

/** What the master itself knows: reloads, the running config, its workers and its own process. */
interface MasterFacts {
  generation: number;
  sha256: string;
  reloadsOk: number;
  reloadsFailed: number;
  /** Epoch seconds of the last successful reload, or of the start before any. */
  lastSuccessfulReloadSecs: number;
  lastReloadOk: boolean | undefined;
  workerRespawns: number;
  liveWorkers: number;
  /** Old workers still draining after a restart (`show proc`'s old workers). */
  oldWorkers: number;
  /** Workers whose figures in this scrape are the last ones they sent, not fresh ones. */
  staleWorkers: number;
  startTimeSecs: number;
  master: ProcessFigures;
  /** Families the master computes itself beyond these (e.g. certificate expiry), appended as given. */
  extra?: readonly Family[];
}

/**
 * Per-worker counters beyond the traffic records (WorkerFigures.counters), by full name: summed
 * and carried like the rest. A name not declared here is not exported.
 */
const WORKER_COUNTERS: Readonly<Record<string, string>> = {};

const PREFIX = 'reverse_proxy_';

type Labelled = Readonly<Record<string, string>>;

type RecordKind = 'site' | 'route' | 'server';

export function kindOf(record: AggregatedRecord): RecordKind {
  if (record.labels.route !== undefined) return 'route';
  return record.labels.server === undefined ? 'site' : 'server';
}

function labelsOf(record: AggregatedRecord): Labelled {
  const { site, route, server } = record.labels;
  if (route !== undefined) return { site, route };
  return server === undefined ? { site } : { site, server };
}

function histogramSamples(values: Float64Array, slots: HistogramSlots, labels: Labelled): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) {
    cumulative += values[slots.buckets + i]!;
    const le = i < DURATION_BUCKETS_SECONDS.length ? formatValue(DURATION_BUCKETS_SECONDS[i]!) : '+Inf';
    samples.push({ suffix: '_bucket', labels: { ...labels, le }, value: cumulative });
  }
  samples.push({ suffix: '_sum', labels, value: values[slots.sum]! }, { suffix: '_count', labels, value: cumulative });
  return samples;
}

/** The families of one kind of traffic record, one series set per record. */
function trafficFamilies(kind: RecordKind, records: readonly AggregatedRecord[]): Family[] {
  const name = (rest: string) => `${PREFIX}${kind}_${rest}`;
  const family = (rest: string, type: Family['type'], help: string, samples: (r: AggregatedRecord, labels: Labelled) => Sample[]): Family => ({
    name: name(rest),
    type,
    help,
    samples: records.flatMap((r) => samples(r, labelsOf(r))),
  });
  const slot = (index: number) => (r: AggregatedRecord, labels: Labelled) => [{ labels, value: r.total[index]! }];
  return [
    family('requests_total', 'counter', `Requests finished, by status class of the reply (proxy-made replies included), per ${kind}.`, (r, labels) =>
      STATUS_CLASSES.map((c, i) => ({ labels: { ...labels, code_class: c }, value: r.total[SLOT.statusClass + i]! })),
    ),
    family('proxy_outcomes_total', 'counter', "Requests whose end the proxy decided rather than the upstream's reply, by reason.", (r, labels) =>
      PROXY_REASONS.map((reason, i) => ({ labels: { ...labels, reason }, value: r.total[SLOT.reason + i]! })),
    ),
    family('request_duration_seconds', 'histogram', 'From the request head arriving to the last byte of the reply.', (r, labels) => histogramSamples(r.total, SLOT.duration, labels)),
    family('upstream_first_byte_seconds', 'histogram', "From the request head arriving to the upstream response's first byte.", (r, labels) =>
      histogramSamples(r.total, SLOT.firstByte, labels),
    ),
    family('received_bytes_total', 'counter', 'Request body bytes received from clients.', slot(SLOT.bytesIn)),
    family('sent_bytes_total', 'counter', 'Response body bytes sent to clients.', slot(SLOT.bytesOut)),
    family('retries_total', 'counter', 'Requests sent again to an upstream after a failed attempt.', slot(SLOT.retries)),
    family('requests_in_flight', 'gauge', 'Requests being served now.', slot(SLOT.inFlight)),
  ];
}

function gauge(name: string, help: string, samples: Sample[]): Family {
  return { name: `${PREFIX}${name}`, help, type: 'gauge', samples };
}

/**
 * When each certificate in use expires (its notAfter, Unix time), by file: alert on it minus
 * time(). A file listed twice is one certificate and one series (one snapshot read it once).
 */
export function certificateExpiryFamily(certificates: readonly { certFile: string; notAfter: string }[]): Family {
  const byFile = new Map(certificates.map((c) => [c.certFile, Date.parse(c.notAfter) / 1000]));
  const samples = [...byFile].map(([file, value]) => ({ labels: { file }, value }));
  return gauge('certificate_expiry_seconds', 'Unix time at which each certificate in use expires (its notAfter), by file.', samples);
}

function counter(name: string, help: string, samples: Sample[]): Family {
  return { name: `${PREFIX}${name}`, help, type: 'counter', samples };
}

function processFamilies(view: AggregatedView, master: ProcessFigures): Family[] {
  const rows = [{ relativePid: 0, figures: master }, ...view.processes];
  const per = (pick: (f: ProcessFigures) => number): Sample[] => rows.map((p) => ({ labels: { relative_pid: String(p.relativePid) }, value: pick(p.figures) }));
  return [
    gauge('process_resident_memory_bytes', 'Resident set size of each process (0 = master).', per((f) => f.rssBytes)),
    gauge('process_heap_used_bytes', 'V8 heap in use in each process.', per((f) => f.heapUsedBytes)),
    gauge('event_loop_delay_p99_seconds', "99th percentile of each process's event-loop delay since the previous collection.", per((f) => f.eventLoopDelayP99Seconds)),
    gauge('event_loop_delay_max_seconds', "Longest event-loop delay of each process since the previous collection.", per((f) => f.eventLoopDelayMaxSeconds)),
  ];
}

/** Nothing counted yet: its traffic series are left out until it has (prom-client's way too). */
function idle(record: AggregatedRecord): boolean {
  return record.total.every((v) => v === 0);
}

export function renderScrape(view: AggregatedView, facts: MasterFacts): string {
  // With 1,000 sites, exporting every idle site's ~50 zero series made each scrape ~10 MB.
  const active = view.records.filter((r) => !idle(r));
  const sites = active.filter((r) => kindOf(r) === 'site');
  const routes = active.filter((r) => kindOf(r) === 'route');
  const servers = view.records.filter((r) => kindOf(r) === 'server');
  const activeServers = active.filter((r) => kindOf(r) === 'server');
  const upById = new Map(view.upstreams.map((u) => [u.server, u]));
  const families: Family[] = [
    gauge('config_info', 'The running config: its generation number and the SHA-256 of its file. Always 1.', [
      { labels: { generation: String(facts.generation), sha256: facts.sha256 }, value: 1 },
    ]),
    counter('reloads_total', 'Reloads and restarts by result.', [
      { labels: { result: 'ok' }, value: facts.reloadsOk },
      { labels: { result: 'failed' }, value: facts.reloadsFailed },
    ]),
    gauge('last_reload_success', '1 if the last reload succeeded, 0 if it failed; absent before the first.', facts.lastReloadOk === undefined ? [] : [{ labels: {}, value: facts.lastReloadOk ? 1 : 0 }]),
    gauge('last_reload_success_timestamp_seconds', 'Unix time of the last successful reload, or of the start before any.', [{ labels: {}, value: facts.lastSuccessfulReloadSecs }]),
    gauge('start_time_seconds', 'Unix time the master started.', [{ labels: {}, value: facts.startTimeSecs }]),
    gauge('workers', 'Worker processes serving traffic now.', [{ labels: {}, value: facts.liveWorkers }]),
    gauge('old_workers', 'Old workers still draining after a restart replaced them; their traffic counts in the totals, they have no per-process rows.', [
      { labels: {}, value: facts.oldWorkers },
    ]),
    counter('worker_respawns_total', 'Workers started again after one died.', [{ labels: {}, value: facts.workerRespawns }]),
    gauge('metrics_stale_workers', 'Workers that did not answer this collection in time; their last figures were used.', [{ labels: {}, value: facts.staleWorkers }]),
    gauge('client_connections', 'Client connections open now.', [{ labels: {}, value: view.clientConnections }]),
    ...trafficFamilies('site', sites),
    ...trafficFamilies('route', routes),
    ...trafficFamilies('server', activeServers),
    gauge(
      'server_up',
      '1 while every worker has the upstream server in rotation, 0 while one keeps it out after a failure.',
      servers.map((r) => ({ labels: labelsOf(r), value: upById.get(r.labels.server!)?.up === false ? 0 : 1 })),
    ),
    gauge(
      'upstream_connections',
      'Connections to each upstream origin, busy with a request (active) or kept alive for the next (idle).',
      view.upstreams.flatMap((u) => [
        { labels: { server: u.server, state: 'active' }, value: u.activeConnections },
        { labels: { server: u.server, state: 'idle' }, value: u.idleConnections },
      ]),
    ),
    ...processFamilies(view, facts.master),
    ...Object.entries(WORKER_COUNTERS).map(([name, help]) => ({ name, help, type: 'counter' as const, samples: [{ labels: {}, value: view.counters.get(name) ?? 0 }] })),
    ...(facts.extra ?? []),
  ];
  return renderFamilies(families);
}
