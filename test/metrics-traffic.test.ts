// Traffic metrics of the real binary with 2 workers: after a known mix of replies (200, 404,
// 429, 502, 504) every counter equals what was sent and the histograms count every request; the
// sums survive `kill -9` of a worker; `show stat` and `show stat json` agree with the scrape;
// request IDs are kept or made, reach the upstream, the client and the access log.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exchange } from './admin-fixture.ts';
import { get, send } from './helpers/http-client.ts';
import { METRICS_TABLE, scrape } from './helpers/metrics.ts';
import { sampleValue, type ParsedFamily } from './helpers/prom-text.ts';
import { closedPort } from './helpers/ports.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { echo, startUpstream } from './helpers/upstream.ts';

test('every counter equals the traffic sent, across 2 workers and a kill -9', async (t) => {
  const ok = await startUpstream(echo('ok'));
  // Accepts and never answers: the site's request timeout turns it into a 504.
  const silent = await startUpstream(() => undefined);
  t.after(() => Promise.all([ok.close(), silent.close()]));
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const proxy = await startProxy({
    t,
    workers: 2,
    config: `${METRICS_TABLE}[[sites]]
host = "ok.test"
upstream = "${ok.url}"

[[sites]]
name = "limited"
host = "limited.test"
upstream = "${ok.url}"
rate_limit = { rps = 0.001, burst = 2 }

[[sites]]
host = "down.test"
upstream = "${refused}"

[[sites]]
host = "slow.test"
upstream = "${silent.url}"
request_timeout_secs = 0.3
`,
  });

  let okBytes = 0;
  for (let i = 0; i < 6; i++) {
    const reply = await get(proxy.port, 'ok.test', `/item/${i}?q=${i}`);
    assert.equal(reply.status, 200);
    okBytes += Buffer.byteLength(reply.body);
  }
  for (let i = 0; i < 3; i++) assert.equal((await get(proxy.port, 'nowhere.test')).status, 404);
  // The limit is per worker: one keep-alive connection keeps all four on one worker.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const limited = [];
  for (let i = 0; i < 4; i++) limited.push((await send(proxy.port, { headers: { host: 'limited.test' }, agent })).status);
  assert.deepEqual(limited, [200, 200, 429, 429]);
  for (let i = 0; i < 2; i++) assert.equal((await get(proxy.port, 'down.test')).status, 502);
  for (let i = 0; i < 2; i++) assert.equal((await get(proxy.port, 'slow.test')).status, 504);
  const sent = 6 + 3 + 4 + 2 + 2;

  const families = await scrape(proxy);
  const requests = (site: string, codeClass: string) => sampleValue(families, 'reverse_proxy_site_requests_total', { site, code_class: codeClass });
  const outcome = (site: string, reason: string) => sampleValue(families, 'reverse_proxy_site_proxy_outcomes_total', { site, reason });
  assert.equal(requests('ok.test', '2xx'), 6);
  assert.equal(requests('limited', '2xx'), 2);
  assert.equal(requests('limited', '4xx'), 2);
  assert.equal(outcome('limited', 'rate_limited'), 2);
  assert.equal(requests('(none)', '4xx'), 3);
  assert.equal(outcome('(none)', 'no_route'), 3);
  assert.equal(requests('down.test', '5xx'), 2);
  assert.equal(outcome('down.test', 'connect_failed'), 2);
  assert.equal(requests('slow.test', '5xx'), 2);
  assert.equal(outcome('slow.test', 'upstream_timeout'), 2);
  assert.equal(sampleValue(families, 'reverse_proxy_server_requests_total', { site: 'ok.test', server: ok.url, code_class: '2xx' }), 6);
  assert.equal(sampleValue(families, 'reverse_proxy_server_proxy_outcomes_total', { site: 'down.test', server: refused, reason: 'connect_failed' }), 2);
  assert.equal(sampleValue(families, 'reverse_proxy_site_sent_bytes_total', { site: 'ok.test' }), okBytes, 'response body bytes the client got');
  assert.equal(sumOf(families, 'reverse_proxy_site_requests_total'), sent, 'every request counted once, in one status class');
  assert.equal(sumOf(families, 'reverse_proxy_site_request_duration_seconds_count'), sent, 'the duration histogram counts every request');
  assert.equal(sumOf(families, 'reverse_proxy_site_upstream_first_byte_seconds_count'), 8, 'only the replies an upstream made have a first byte');
  assert.equal(sumOf(families, 'reverse_proxy_site_requests_in_flight'), 0);
  assert.equal(sumOf(families, 'reverse_proxy_site_proxy_outcomes_total'), 3 + 2 + 2 + 2);
  const slowSum = sampleValue(families, 'reverse_proxy_site_request_duration_seconds_sum', { site: 'slow.test' })!;
  assert.ok(slowSum >= 0.6 && slowSum < 5, `two 0.3 s timeouts took ${slowSum} s in all`);

  // show stat and show stat json: the same numbers as the scrape, row by row.
  const rows = JSON.parse(await exchange(proxy.socketPath, 'show stat json\n')) as { site: string; server: string | null; requests: number; status_classes: Record<string, number>; bytes_out: number }[];
  const csv = (await exchange(proxy.socketPath, 'show stat\n')).trim().split('\n').slice(1).map((line) => line.split(','));
  assert.equal(csv.length, rows.length);
  rows.forEach((row, i) => {
    const kind = row.server === null ? 'site' : 'server';
    const labels: Record<string, string> = row.server === null ? { site: row.site } : { site: row.site, server: row.server };
    const line = csv[i]!;
    assert.deepEqual([line[0], line[1]], [row.site, row.server ?? 'SITE']);
    assert.equal(Number(line[2]), row.requests);
    for (const [k, codeClass] of ['1xx', '2xx', '3xx', '4xx', '5xx'].entries()) {
      const scraped = sampleValue(families, `reverse_proxy_${kind}_requests_total`, { ...labels, code_class: codeClass });
      assert.equal(row.status_classes[codeClass], scraped, `${row.site} ${row.server} ${codeClass}`);
      assert.equal(Number(line[3 + k]), scraped);
    }
    assert.equal(row.bytes_out, sampleValue(families, `reverse_proxy_${kind}_sent_bytes_total`, labels));
  });

  // kill -9 one worker: its counts are carried, the respawned worker adds to them.
  const worker = (await exchange(proxy.socketPath, 'show proc\n')).split('\n').find((l) => /\bworker\s+1\b/.test(l))!.split(/\s+/)[0]!;
  process.kill(Number(worker), 'SIGKILL');
  await proxy.waitForLog((l) => l.event === 'worker_respawn');
  // Until the replacement listens (a few hundred ms; longer on a busy machine).
  let after = await scrape(proxy);
  for (let i = 0; i < 50 && sampleValue(after, 'reverse_proxy_workers') !== 2; i++) {
    await sleep(200);
    after = await scrape(proxy);
  }
  assert.equal(sampleValue(after, 'reverse_proxy_workers'), 2, 'the slot was respawned');
  assert.equal(sampleValue(after, 'reverse_proxy_worker_respawns_total'), 1);
  for (const name of ['reverse_proxy_site_requests_total', 'reverse_proxy_site_request_duration_seconds_count', 'reverse_proxy_site_sent_bytes_total', 'reverse_proxy_server_requests_total']) {
    assert.equal(sumOf(after, name), sumOf(families, name), `${name} kept its value through the kill`);
  }
  for (let i = 0; i < 3; i++) assert.equal((await get(proxy.port, 'ok.test')).status, 200);
  assert.equal(sampleValue(await scrape(proxy), 'reverse_proxy_site_requests_total', { site: 'ok.test', code_class: '2xx' }), 9);
});

test('a refused connect is retried on the next server: retries, the failed attempt, server_up and upstream connections', async (t) => {
  const ok = await startUpstream(echo('ok'));
  t.after(() => ok.close());
  const refused = `http://127.0.0.1:${await closedPort()}`;
  const proxy = await startProxy({ t, workers: 2, config: `${METRICS_TABLE}[[sites]]\nhost = "pair.test"\nupstream = ["${refused}", "${ok.url}"]\n` });
  // One connection, so one worker: its first pick is the refused server, then it is ejected.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 3; i++) assert.equal((await send(proxy.port, { headers: { host: 'pair.test' }, agent })).status, 200);
  const families = await scrape(proxy);
  assert.equal(sampleValue(families, 'reverse_proxy_site_retries_total', { site: 'pair.test' }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_site_requests_total', { site: 'pair.test', code_class: '2xx' }), 3);
  assert.equal(sampleValue(families, 'reverse_proxy_site_proxy_outcomes_total', { site: 'pair.test', reason: 'connect_failed' }), 0, 'the request itself succeeded');
  assert.equal(sampleValue(families, 'reverse_proxy_server_requests_total', { site: 'pair.test', server: refused, code_class: '5xx' }), 1, 'the failed attempt counts on its server');
  assert.equal(sampleValue(families, 'reverse_proxy_server_requests_total', { site: 'pair.test', server: ok.url, code_class: '2xx' }), 3);
  assert.equal(sampleValue(families, 'reverse_proxy_server_up', { site: 'pair.test', server: refused }), 0, 'out of rotation in the worker that failed to connect');
  assert.equal(sampleValue(families, 'reverse_proxy_server_up', { site: 'pair.test', server: ok.url }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_upstream_connections', { server: ok.url, state: 'idle' }), 1, 'the kept-alive upstream connection');
  assert.equal(sampleValue(families, 'reverse_proxy_upstream_connections', { server: ok.url, state: 'active' }), 0);
  assert.ok(sampleValue(families, 'reverse_proxy_client_connections')! >= 1, 'the agent keeps its connection open');
  const row = (await exchange(proxy.socketPath, 'show stat\n')).split('\n').find((l) => l.startsWith(`pair.test,${refused},`))!;
  assert.match(row, /,DOWN$/);
});

test('a matched route counts in its own series; a fixed response counts under its status', async (t) => {
  const ok = await startUpstream(echo('ok'));
  t.after(() => ok.close());
  const proxy = await startProxy({
    t,
    workers: 2,
    config: `${METRICS_TABLE}[[sites]]\nhost = "r.test"\nupstream = "${ok.url}"\n\n[[sites.routes]]\nname = "api"\npath_prefix = "/api"\n\n[[sites.routes]]\npath = "/health"\nrespond = { status = 204 }\n`,
  });
  for (let i = 0; i < 3; i++) assert.equal((await get(proxy.port, 'r.test', `/api/${i}`)).status, 200);
  assert.equal((await get(proxy.port, 'r.test', '/health')).status, 204);
  assert.equal((await get(proxy.port, 'r.test', '/other')).status, 200);
  const families = await scrape(proxy);
  assert.equal(sampleValue(families, 'reverse_proxy_route_requests_total', { site: 'r.test', route: 'api', code_class: '2xx' }), 3);
  assert.equal(sampleValue(families, 'reverse_proxy_route_requests_total', { site: 'r.test', route: 'routes[1]', code_class: '2xx' }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_route_upstream_first_byte_seconds_count', { site: 'r.test', route: 'routes[1]' }), 0, 'answered by the proxy');
  assert.equal(sampleValue(families, 'reverse_proxy_site_requests_total', { site: 'r.test', code_class: '2xx' }), 5, 'the site counts every request, routed or not');
  const rows = (await exchange(proxy.socketPath, 'show stat\n')).split('\n');
  assert.ok(rows.some((r) => r.startsWith('r.test,ROUTE:api,3,')), rows.join('\n'));
});

test('request IDs: an incoming one is kept, a missing one made; both reach the upstream, the client and the access log', async (t) => {
  const upstream = await startUpstream(echo('app'));
  t.after(() => upstream.close());
  const proxy = await startProxy({ t, workers: 2, config: `[[sites]]\nhost = "app.test"\nupstream = "${upstream.url}"\n` });
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const kept = await send(proxy.port, { headers: { host: 'app.test', 'x-request-id': 'client-chosen-1', traceparent, tracestate: 'congo=t61rcWkgMzE' } });
  assert.equal(kept.headers['x-request-id'], 'client-chosen-1');
  const seen = upstream.requests.at(-1)!.headers;
  assert.equal(seen['x-request-id'], 'client-chosen-1');
  assert.equal(seen.traceparent, traceparent, 'traceparent passes untouched');
  assert.equal(seen.tracestate, 'congo=t61rcWkgMzE');
  await proxy.waitForLog((l) => l.event === 'access' && l.request_id === 'client-chosen-1');

  const made = await get(proxy.port, 'app.test');
  const id = made.headers['x-request-id'] as string;
  assert.match(id, /^[0-9a-f]{16}-[0-9a-z]+$/);
  assert.equal(upstream.requests.at(-1)!.headers['x-request-id'], id, 'the upstream got the ID the client got');
  await proxy.waitForLog((l) => l.event === 'access' && l.request_id === id);

  // The proxy's own replies carry one too; an unusable incoming ID is replaced, not forwarded.
  const refused = await send(proxy.port, { headers: { host: 'nowhere.test', 'x-request-id': 'has space' } });
  assert.equal(refused.status, 404);
  assert.match(refused.headers['x-request-id'] as string, /^[0-9a-f]{16}-/);
});

function sumOf(families: Map<string, ParsedFamily>, sampleName: string): number {
  const family = [...families.values()].find((f) => f.samples.some((s) => s.name === sampleName));
  return (family?.samples ?? []).filter((s) => s.name === sampleName).reduce((sum, s) => sum + s.value, 0);
}
