// The master's Prometheus listener on the real binary with 2 workers: a well-formed scrape
// (checked by a strict text-format parser), the config info metric following reloads, series of
// a removed site leaving the scrape, `show stat` on the master and on one worker, and one
// certificate expiry series per file however often the config lists it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from './admin-fixture.ts';
import { METRICS_TABLE, fetchText, metricsAddress, scrape } from './helpers/metrics.ts';
import { sampleValue } from './helpers/prom-text.ts';
import { get } from './helpers/http-client.ts';
import { startProxy, site } from './helpers/proxy-process.ts';
import { hasOpenssl, makeCertificate } from './helpers/tls.ts';

/** Nothing listens there: traffic to these sites is refused (502), which is all their series need. */
const REFUSING_UPSTREAM = 'http://127.0.0.1:9';

test('the scrape parses strictly; config_info, reload counters and site series follow reloads', async (t) => {
  const proxy = await startProxy({ t, workers: 2, config: METRICS_TABLE + site('a.test', REFUSING_UPSTREAM) + site('b.test', REFUSING_UPSTREAM, 'name = "bee"\n') });
  const address = await metricsAddress(proxy);
  const reply = await fetchText(`http://${address}/metrics`);
  assert.equal(reply.status, 200);
  assert.equal(reply.contentType, 'text/plain; version=0.0.4; charset=utf-8');

  let families = await scrape(proxy);
  const info = JSON.parse(await exchange(proxy.socketPath, 'show info json\n')) as { config_sha256: string; generation: number };
  assert.equal(sampleValue(families, 'reverse_proxy_config_info', { generation: '1', sha256: info.config_sha256 }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_workers'), 2);
  assert.equal(sampleValue(families, 'reverse_proxy_reloads_total', { result: 'ok' }), 0);
  assert.equal(sampleValue(families, 'reverse_proxy_last_reload_success'), undefined, 'absent before the first reload');
  // Idle sites have no traffic series yet; every configured server has its up gauge.
  assert.equal(sampleValue(families, 'reverse_proxy_site_requests_total', { site: 'bee', code_class: '5xx' }), undefined, 'no traffic yet');
  assert.equal(sampleValue(families, 'reverse_proxy_server_up', { site: 'bee', server: 'http://127.0.0.1:9' }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_server_up', { site: 'a.test', server: 'http://127.0.0.1:9' }), 1);
  // Traffic to both sites (the upstream refuses: 502) makes their series appear.
  for (const host of ['a.test', 'b.test']) assert.equal((await get(proxy.port, host)).status, 502);
  families = await scrape(proxy);
  for (const name of ['a.test', 'bee']) assert.equal(sampleValue(families, 'reverse_proxy_site_requests_total', { site: name, code_class: '5xx' }), 1, name);
  const pids = families.get('reverse_proxy_process_resident_memory_bytes')!.samples.map((s) => s.labels.relative_pid);
  assert.deepEqual(pids, ['0', '1', '2'], 'one RSS per process: master and both workers');
  for (const s of families.get('reverse_proxy_process_resident_memory_bytes')!.samples) assert.ok(s.value > 1e6, `${s.value} bytes`);

  // The site named "bee" goes away; a.test stays. Its series leave the scrape, the SHA changes.
  await proxy.writeConfig(METRICS_TABLE + site('a.test', REFUSING_UPSTREAM));
  assert.equal(await exchange(proxy.socketPath, 'reload\n'), '{"status":"ok"}\n');
  families = await scrape(proxy);
  const after = JSON.parse(await exchange(proxy.socketPath, 'show info json\n')) as { config_sha256: string };
  assert.notEqual(after.config_sha256, info.config_sha256);
  assert.deepEqual(families.get('reverse_proxy_config_info')!.samples.map((s) => s.labels), [{ generation: '2', sha256: after.config_sha256 }]);
  assert.equal(sampleValue(families, 'reverse_proxy_reloads_total', { result: 'ok' }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_last_reload_success'), 1);
  const sites = new Set([...families.values()].flatMap((f) => f.samples.map((s) => s.labels.site)).filter((s) => s !== undefined));
  assert.deepEqual([...sites].sort(), ['a.test'], 'every series of "bee" is gone');
  assert.equal(sampleValue(families, 'reverse_proxy_site_requests_total', { site: 'a.test', code_class: '5xx' }), 1, 'a site kept by a reload keeps counting');

  // A failed reload counts as failed and keeps the running config's info.
  await proxy.writeConfig('[[sites]]\nhost = 3\n');
  assert.match(await exchange(proxy.socketPath, 'reload\n'), /"status":"error"/);
  families = await scrape(proxy);
  assert.equal(sampleValue(families, 'reverse_proxy_reloads_total', { result: 'failed' }), 1);
  assert.equal(sampleValue(families, 'reverse_proxy_last_reload_success'), 0);
  assert.equal(sampleValue(families, 'reverse_proxy_config_info', { generation: '2', sha256: after.config_sha256 }), 1);

  assert.equal((await fetchText(`http://${address}/other`)).status, 404);
});

test('show stat answers on the master and on one worker, with a row per site and server', async (t) => {
  const proxy = await startProxy({ t, workers: 2, config: METRICS_TABLE + site('a.test', REFUSING_UPSTREAM) });
  const header = '# pxname,svname,req_tot,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,scur,bin,bout,p50_ms,p99_ms,status';
  const expected = [header, 'a.test,SITE,0,0,0,0,0,0,0,0,0,,,UP', 'a.test,http://127.0.0.1:9,0,0,0,0,0,0,0,0,0,,,UP', '(none),SITE,0,0,0,0,0,0,0,0,0,,,-', ''].join('\n');
  assert.equal(await exchange(proxy.socketPath, 'show stat\n'), expected);
  assert.equal(await exchange(proxy.socketPath, '@1 show stat\n'), expected);
  const rows = JSON.parse(await exchange(proxy.socketPath, '@2 show stat json\n')) as { site: string; server: string | null; requests: number }[];
  assert.deepEqual(rows.map((r) => [r.site, r.server, r.requests]), [['a.test', null, 0], ['a.test', 'http://127.0.0.1:9', 0], ['(none)', null, 0]]);
});

test('a certificate file listed twice is one certificate_expiry series, so the scrape still parses', { skip: !hasOpenssl() && 'openssl not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rp-metrics-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = makeCertificate(dir, 'a.test');
  const entry = `[[certificates]]\ncert = "${files.cert}"\nkey = "${files.key}"\n\n`;
  const proxy = await startProxy({ t, tls: true, config: METRICS_TABLE + entry + entry + site('a.test', REFUSING_UPSTREAM) });
  const families = await scrape(proxy);
  const rows = JSON.parse(await proxy.admin('show certs json')) as { file: string; not_after: string }[];
  assert.equal(rows.length, 2, 'both entries are in use');
  assert.deepEqual(families.get('reverse_proxy_certificate_expiry_seconds')!.samples.map((s) => [s.labels.file, s.value]), [[files.cert, Date.parse(rows[0]!.not_after) / 1000]]);
});
