// Scrapes while an old worker drains after `restart`, on the real binary with 2 workers: the
// moment an operator watches most. Each scrape must parse strictly (no two samples with the same
// name and labels, which Prometheus rejects as a whole), show one row per relative PID, count
// the draining worker's requests in the site and server totals exactly once, and no counter may
// go back from one scrape to the next. A SIGTERM drain is scraped the same way until the process
// exits, which it does right after the cut, so the cut requests show in the access log only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { METRICS_TABLE, scrape, siteFigures, upstreamHas } from './helpers/metrics.ts';
import { get } from './helpers/http-client.ts';
import { countersGoneBack, sampleValue, type ParsedFamily } from './helpers/prom-text.ts';
import { RESTART_REPLY_MS, procRows, startProxy, site, type ProxyProcess } from './helpers/proxy-process.ts';
import { RawClient, statusOf } from './helpers/raw-http.ts';
import { startUpstream } from './helpers/upstream.ts';

/** The old workers `show proc` lists, by pid. */
async function oldWorkerPids(proxy: ProxyProcess): Promise<number[]> {
  return procRows(await proxy.admin('show proc'), 'old').map((r) => r.pid);
}

const relativePids = (families: Map<string, ParsedFamily>, name: string) => families.get(name)!.samples.map((s) => s.labels.relative_pid);

const PROCESS_FAMILIES = [
  'reverse_proxy_process_resident_memory_bytes',
  'reverse_proxy_process_heap_used_bytes',
  'reverse_proxy_event_loop_delay_p99_seconds',
  'reverse_proxy_event_loop_delay_max_seconds',
];

test('during a restart drain: no series twice, one row per relative PID, the old worker’s requests counted once, counters never back', async (t) => {
  // `/hold/…` waits until released, so the old workers have requests to drain; the rest answer at once.
  const held: (() => void)[] = [];
  const upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/hold/')) held.push(() => res.end('held'));
    else res.end('ok');
  });
  t.after(() => {
    for (const release of held.splice(0)) release();
    return upstream.close();
  });
  // A drain long enough to scrape in; the release below ends it early.
  const proxy = await startProxy({ t, workers: 2, shutdownTimeoutSecs: 60, config: METRICS_TABLE + site('drain.test', upstream.url) });

  const quick = 4;
  for (let i = 0; i < quick; i++) assert.equal((await get(proxy.port, 'drain.test', `/quick/${i}`)).status, 200);
  // Connections go to the workers in turn, so both hold some.
  const holding = 4;
  const clients: RawClient[] = [];
  for (let i = 0; i < holding; i++) clients.push(await RawClient.open(proxy.port, `GET /hold/${i} HTTP/1.1\r\nHost: drain.test\r\n\r\n`));
  await upstreamHas(upstream, quick + holding);
  const before = await scrape(proxy);
  assert.equal(siteFigures(before, 'drain.test').inFlight, holding);

  const restarted = proxy.admin('restart', RESTART_REPLY_MS);
  // A worker logs `draining` once its replacement listens: from then on both run with one relative PID.
  await proxy.waitForLog((l) => l.event === 'draining' && l.reason === undefined);
  const draining = await oldWorkerPids(proxy);
  assert.equal(draining.length, 1, 'one old worker drains at a time');

  const during = await scrape(proxy);
  for (const name of PROCESS_FAMILIES) assert.deepEqual(relativePids(during, name), ['0', '1', '2'], `${name}: master and the two serving workers`);
  assert.equal(sampleValue(during, 'reverse_proxy_old_workers'), 1);
  assert.equal(sampleValue(during, 'reverse_proxy_workers'), 2);
  assert.equal(siteFigures(during, 'drain.test').inFlight, holding, 'the draining worker’s requests are still in flight');
  assert.deepEqual(countersGoneBack(before, during), []);

  // New requests meanwhile go to the serving workers and count as usual.
  const meanwhile = 2;
  for (let i = 0; i < meanwhile; i++) assert.equal((await get(proxy.port, 'drain.test', `/meanwhile/${i}`)).status, 200);
  const later = await scrape(proxy);
  assert.deepEqual(await oldWorkerPids(proxy), draining, 'both scrapes ran while the old worker drained');
  assert.deepEqual(countersGoneBack(during, later), []);
  assert.equal(siteFigures(later, 'drain.test').classes['2xx'], quick + meanwhile);

  // The held requests finish on the old workers, which then exit; the restart completes.
  for (const release of held.splice(0)) release();
  for (const client of clients) assert.equal(statusOf((await client.response())!), 200);
  assert.equal(await restarted, '{"status":"ok"}\n');

  const after = await scrape(proxy);
  assert.deepEqual(countersGoneBack(later, after), []);
  const served = quick + holding + meanwhile;
  const figures = siteFigures(after, 'drain.test');
  assert.equal(figures.classes['2xx'], served, 'every request counted once: the old workers’ too, none twice');
  assert.equal(figures.durationCount, served);
  assert.equal(figures.inFlight, 0);
  assert.equal(sampleValue(after, 'reverse_proxy_server_requests_total', { site: 'drain.test', server: upstream.url, code_class: '2xx' }), served);
  assert.equal(sampleValue(after, 'reverse_proxy_old_workers'), 0);
  for (const name of PROCESS_FAMILIES) assert.deepEqual(relativePids(after, name), ['0', '1', '2'], name);
  for (const client of clients) client.destroy();
});

test('during a SIGTERM drain: scrapes go on and show the requests the deadline will cut in flight; the cut itself is in the access log only', async (t) => {
  const never = await startUpstream(() => undefined);
  t.after(() => never.close());
  // Long enough to scrape in on a loaded machine (the scrape must come before the exit).
  const proxy = await startProxy({ t, workers: 2, shutdownTimeoutSecs: 8, config: METRICS_TABLE + site('term.test', never.url) });
  const cut = 3;
  const clients: RawClient[] = [];
  for (let i = 0; i < cut; i++) clients.push(await RawClient.open(proxy.port, `GET /hang/${i} HTTP/1.1\r\nHost: term.test\r\n\r\n`));
  await upstreamHas(never, cut);
  await scrape(proxy); // the listener's address, read while the proxy is surely up

  proxy.signal('SIGTERM');
  await proxy.waitForLog((l) => l.event === 'draining' && l.component === 'master');
  const during = siteFigures(await scrape(proxy), 'term.test');
  assert.equal(during.inFlight, cut, 'the requests still running are in flight');
  assert.equal(during.reasons.drain_cut, 0, 'nothing is cut before the deadline');
  assert.equal(during.durationCount, 0);

  assert.deepEqual(await proxy.exited, { code: 0, signal: null });
  for (const client of clients) assert.equal(await client.closed, '', 'cut without a response');
  // The master exits with its workers, right after their last figures: no scrape can see them.
  const lines = proxy.logs.filter((l) => l.event === 'access' && l.error === 'ERR_DRAIN_CUT').map((l) => l.status);
  assert.deepEqual(lines, Array(cut).fill(444), 'each cut request has its 444 access line');
});
