// The master's sum of worker figures, on figures made by real worker records: counters carried
// when a process goes, gauges not; series a reload removes dropped; the since-reload counts of
// `show stat`; an old worker draining beside its replacement; a drained worker's last figures carried
// once; bucket edges and the interpolated quantiles.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FiguresAggregator } from '../src/metrics/aggregator.ts';
import { MetricsHub } from '../src/metrics/hub.ts';
import { DURATION_BUCKETS_SECONDS, SLOT, bucketIndex, histogramCount, histogramQuantile, statusClassIndex } from '../src/metrics/layout.ts';
import { NO_REASON, REASON_INDEX, requestFinished, requestRefused, requestStarted } from '../src/metrics/recorder.ts';
import { seriesOf } from '../src/metrics/series.ts';
import { WorkerMetrics, type GenerationRecords } from '../src/metrics/worker-metrics.ts';
import { configSchema, siteSchema, type SiteConfig } from '../src/config/schema.ts';
import { meterEnd, meterRoute, meterRouted, meterUpstream, type MeteredRequest } from '../src/metrics/tap.ts';

const site = (host: string): SiteConfig => siteSchema.parse({ host, upstream: 'http://127.0.0.1:9' });
const generation = (id: number, sites: SiteConfig[]) => ({ id, sha256: 'x'.repeat(64), upstreams: [], sites, certificates: [], caFiles: {} });

function serve(records: GenerationRecords, count: number, status = 200, ms = 3): void {
  const { site: record, servers } = records.sites[0]!;
  for (let i = 0; i < count; i++) {
    requestStarted(record);
    requestStarted(servers[0]!);
    requestFinished(servers[0]!, status, NO_REASON, 10, 100, ms, ms / 2);
    requestFinished(record, status, NO_REASON, 10, 100, ms, ms / 2);
  }
}

const figures = (worker: WorkerMetrics) => worker.figures({ clientConnections: 1, upstreams: [] });

/** One site (a.test), its series, an aggregator, and two workers with their records of generation 1. */
function twoWorkersOfOneSite() {
  const sites = [site('a.test')];
  const workers = [new WorkerMetrics(), new WorkerMetrics()] as const;
  const records = workers.map((w) => w.recordsFor(generation(1, sites)));
  return { sites, series: seriesOf({ sites }), aggregator: new FiguresAggregator(), workers, records: [records[0]!, records[1]!] as const };
}

test('a dead worker’s counters are carried, its gauges are not, and the sum never drops', () => {
  const {
    sites,
    series,
    aggregator,
    workers: [one, two],
    records: [recordsOne, recordsTwo],
  } = twoWorkersOfOneSite();
  serve(recordsOne, 5);
  serve(recordsTwo, 3, 404);
  requestStarted(recordsOne.sites[0]!.site); // one still in flight in worker 1
  aggregator.record(101, 1, figures(one));
  aggregator.record(102, 2, figures(two));
  let view = aggregator.view(series, new Set([101, 102]));
  const a = () => view.records.find((r) => r.labels.site === 'a.test' && r.labels.server === undefined)!;
  assert.equal(a().total[SLOT.statusClass + statusClassIndex(200)], 5);
  assert.equal(a().total[SLOT.statusClass + statusClassIndex(404)], 3);
  assert.equal(a().total[SLOT.inFlight], 1);
  assert.equal(view.clientConnections, 2);

  // Worker 1 dies; its replacement (pid 103) starts from zero and serves 2.
  aggregator.forgetExcept(new Set([102]), 1);
  const replacement = new WorkerMetrics();
  serve(replacement.recordsFor(generation(1, sites)), 2);
  aggregator.record(103, 1, figures(replacement));
  view = aggregator.view(series, new Set([102, 103]));
  assert.equal(a().total[SLOT.statusClass + statusClassIndex(200)], 7, '5 carried + 2 new');
  assert.equal(histogramCount(a().total, SLOT.duration), 10);
  assert.equal(a().total[SLOT.inFlight], 0, 'the dead worker’s in-flight request is not carried');
  assert.equal(view.clientConnections, 2, 'live workers only');
  assert.deepEqual(view.processes.map((p) => p.relativePid), [1, 2]);
});

test('an old worker draining beside its replacement counts in every sum but has no process row: one row per relative PID', () => {
  const {
    series,
    aggregator,
    workers: [old, replacement],
    records: [oldRecords, replacementRecords],
  } = twoWorkersOfOneSite();
  serve(oldRecords, 3);
  requestStarted(oldRecords.sites[0]!.site); // still draining this one
  serve(replacementRecords, 2);
  aggregator.record(201, 1, figures(old));
  aggregator.record(202, 1, figures(replacement));
  const view = aggregator.view(series, new Set([201, 202]), new Set([202]));
  const a = view.records.find((r) => r.labels.site === 'a.test' && r.labels.server === undefined)!;
  assert.equal(a.total[SLOT.statusClass + statusClassIndex(200)], 5);
  assert.equal(a.total[SLOT.inFlight], 1, 'the old worker’s request in flight is in flight');
  assert.equal(view.clientConnections, 2);
  assert.deepEqual(view.processes.map((p) => p.relativePid), [1], 'the replacement’s row only');
});

test('a drained worker’s last figures are carried once: taken while it is alive, never after its totals were carried', async () => {
  const sites = [site('a.test')];
  const generationNow = () => ({ id: 1, sites });
  // The hub's side of the IPC channel, driven by hand: which workers live and what they answer.
  const workers = new Map<number, WorkerMetrics>();
  const hub = new MetricsHub(
    {
      collectFigures: async () => [...workers].map(([pid, worker]) => ({ pid, relativePid: 1, figures: figures(worker) })),
      alivePids: () => new Set(workers.keys()),
      slotPids: () => new Set(workers.keys()),
    },
    generationNow,
  );
  const served = async () => (await hub.collect()).view.records.find((r) => r.labels.site === 'a.test' && r.labels.server === undefined)!.total[SLOT.statusClass + statusClassIndex(444)];

  // Worker 301 is collected with 2 finished, its drain then cuts 1 more and it says so before exiting.
  const drained = new WorkerMetrics();
  const drainedRecords = drained.recordsFor(generation(1, sites));
  workers.set(301, drained);
  serve(drainedRecords, 2, 444);
  assert.equal(await served(), 2);
  serve(drainedRecords, 1, 444);
  hub.lastFigures(301, 1, figures(drained));
  workers.delete(301);
  assert.equal(await served(), 3, 'the cut request, which no collection saw, is counted');
  assert.equal(await served(), 3, 'and carried once');

  // Worker 302's last word comes after a collection had already carried its totals: it is dropped.
  const late = new WorkerMetrics();
  const lateRecords = late.recordsFor(generation(1, sites));
  workers.set(302, late);
  serve(lateRecords, 1, 444);
  assert.equal(await served(), 4);
  workers.delete(302);
  assert.equal(await served(), 4);
  serve(lateRecords, 1, 444);
  hub.lastFigures(302, 1, figures(late));
  assert.equal(await served(), 4, 'not 4 + 2: what was carried is not added again');

  // Worker 303 answers a collection, then cuts 1 more and says so before that collection ends (another worker was slower):
  // its answer, older than its last word, must not replace it.
  const racing = new WorkerMetrics();
  const racingRecords = racing.recordsFor(generation(1, sites));
  workers.set(303, racing);
  serve(racingRecords, 2, 444);
  const collecting = hub.collect(); // takes its answer now: 2
  serve(racingRecords, 1, 444);
  hub.lastFigures(303, 1, figures(racing));
  workers.delete(303);
  await collecting;
  assert.equal(await served(), 7, '4 + all 3 of worker 303, the cut one included');
});

test('a reload drops removed series from workers and carried totals, and restarts since-reload counts', () => {
  const before = [site('a.test'), site('b.test')];
  const after = [site('a.test')];
  const aggregator = new FiguresAggregator();
  const worker = new WorkerMetrics();
  const records = worker.recordsFor(generation(1, before));
  serve(records, 4);
  requestRefused(records.unrouted, 404, REASON_INDEX.no_route, 0, 20, 0.1);
  aggregator.record(7, 1, figures(worker));
  aggregator.forgetExcept(new Set(), 1); // it died: everything is carried now
  const fresh = new WorkerMetrics();
  serve(fresh.recordsFor(generation(2, after)), 1);
  aggregator.reloaded(() => seriesOf({ sites: after }));
  aggregator.record(8, 1, figures(fresh));
  const view = aggregator.view(seriesOf({ sites: after }), new Set([8]));
  assert.deepEqual(view.records.map((r) => [r.labels.site, r.labels.server]), [['a.test', undefined], ['a.test', 'http://127.0.0.1:9'], ['(none)', undefined]]);
  const a = view.records[0]!;
  assert.equal(histogramCount(a.total, SLOT.duration), 5, 'cumulative: 4 carried + 1');
  assert.equal(histogramCount(a.sinceReload, SLOT.duration), 1, 'since the reload: only the new one');
  assert.equal(view.records[2]!.total[SLOT.reason + REASON_INDEX.no_route], 1);
});

test('a worker keeps a site’s record across its own reload and counts since it separately', () => {
  const worker = new WorkerMetrics();
  const first = worker.recordsFor(generation(1, [site('a.test')]));
  serve(first, 3);
  const second = worker.recordsFor(generation(2, [site('a.test'), site('c.test')]));
  assert.equal(second.sites[0]!.site, first.sites[0]!.site, 'the same record object');
  serve(second, 1);
  const record = figures(worker).records.find((r) => r.labels.site === 'a.test' && r.labels.server === undefined)!;
  assert.equal(histogramCount(record.total, SLOT.duration), 4);
  assert.equal(histogramCount(record.sinceReload, SLOT.duration), 1);
  // c.test never counted anything: it is not sent, and the master still shows it, at zero.
  const sent = figures(worker);
  assert.equal(sent.records.some((r) => r.labels.site === 'c.test'), false);
  const aggregator = new FiguresAggregator();
  aggregator.record(1, 1, sent);
  const view = aggregator.view(seriesOf({ sites: [site('a.test'), site('c.test')] }), new Set([1]));
  assert.equal(histogramCount(view.records.find((r) => r.labels.site === 'c.test')!.total, SLOT.duration), 0);
});

test('routes and group servers: a record each, in site, route, server order', () => {
  const config = configSchema.parse({
    upstreams: [{ name: 'api', servers: ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'] }],
    sites: [{ host: 'shop.test', upstream: 'http://127.0.0.1:9', routes: [{ name: 'api', path_prefix: '/api', upstream: 'api' }, { path: '/health', respond: { status: 200 } }] }],
  });
  const series = seriesOf(config);
  const labels = new FiguresAggregator().view(series, new Set()).records.map((r) => r.labels);
  assert.deepEqual(labels, [
    { site: 'shop.test' },
    { site: 'shop.test', route: 'api' },
    { site: 'shop.test', route: 'routes[1]' },
    { site: 'shop.test', server: 'http://127.0.0.1:9' },
    { site: 'shop.test', server: 'http://10.0.0.1:8080' },
    { site: 'shop.test', server: 'http://10.0.0.2:8080' },
    { site: '(none)' },
  ]);
  const worker = new WorkerMetrics();
  const records = worker.recordsFor({ id: 1, sha256: 'x'.repeat(64), ...config, certificates: [], caFiles: {} });
  const request: MeteredRequest = { status: 200, error: undefined, bytesIn: 0, bytesOut: 5, startedAt: 0, firstByteAt: 1, meter: undefined, routeMeter: undefined, serverMeter: undefined };
  meterRouted(request, records.sites[0]!);
  meterRoute(request, records.sites[0]!.routeByName.get('api')!);
  meterUpstream(request, 'http://10.0.0.2:8080', 0.5);
  meterEnd(records, request, 2);
  const aggregator = new FiguresAggregator();
  aggregator.record(1, 1, figures(worker));
  const counted = aggregator.view(series, new Set([1])).records.filter((r) => r.total[SLOT.statusClass + 1] === 1).map((r) => r.labels);
  assert.deepEqual(counted, [{ site: 'shop.test' }, { site: 'shop.test', route: 'api' }, { site: 'shop.test', server: 'http://10.0.0.2:8080' }]);
});

test('buckets hold values up to their bound; quantiles interpolate inside a bucket', () => {
  assert.equal(bucketIndex(0.5), 0, '0.5 ms is in the 0.0005 s bucket');
  assert.equal(bucketIndex(0.5001), 1);
  assert.equal(bucketIndex(60_000), DURATION_BUCKETS_SECONDS.length - 1);
  assert.equal(bucketIndex(60_001), DURATION_BUCKETS_SECONDS.length, '+Inf');
  const values = new Float64Array(SLOT.counterEnd + 1);
  values[SLOT.duration.buckets + bucketIndex(4)] = 100; // (2.5 ms, 5 ms]
  assert.equal(histogramQuantile(values, SLOT.duration, 0.5), 0.00375);
  assert.equal(histogramQuantile(new Float64Array(SLOT.counterEnd), SLOT.duration, 0.5), undefined);
  assert.equal(statusClassIndex(99), 4, 'out of range counts as 5xx');
  assert.equal(statusClassIndex(600), 4);
});
