// Kubernetes Events against a local HTTP server standing in for the API server (reached through
// a real kubeconfig file, as `KUBECONFIG` would point at one).
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { createEventSink, EVENT_MESSAGE_MAX_BYTES, MAX_PENDING_EVENTS } from '../src/reloader/kube-events.ts';
import { ReloaderMetrics } from '../src/reloader/metrics.ts';
import type { ReloadReport } from '../src/reloader/reload-report.ts';
import { startApiServer } from './helpers/kube-api.ts';

function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, sink) };
}

const POD = { POD_NAME: 'web-7d9f-abcde', POD_NAMESPACE: 'shop', POD_UID: '1b2c3d4e-0000-4000-8000-000000000001' };
const ok: ReloadReport = { result: 'ok', sha256: 'a'.repeat(64), previousSha256: 'b'.repeat(64), durationMs: 12.4, generation: 3, warnings: [], trigger: 'watch' };
const failed: ReloadReport = { result: 'failed', sha256: 'c'.repeat(64), previousSha256: 'a'.repeat(64), durationMs: 3, message: 'config.toml:4: sites[0].upstream: must be a URL', warnings: [], trigger: 'watch' };

test('a successful reload becomes a Normal "Reloaded" Event on the pod', async (t) => {
  const api = await startApiServer(t);
  const metrics = new ReloaderMetrics();
  const sink = createEventSink({ ...POD, KUBECONFIG: api.kubeconfig, HOSTNAME: 'web-7d9f-abcde' }, capturingLogger().logger, metrics);
  sink.report(ok);
  await sink.idle();

  assert.equal(api.posted.length, 1);
  const { method, url, authorization, body } = api.posted[0]!;
  assert.equal(method, 'POST');
  assert.equal(url, '/api/v1/namespaces/shop/events');
  assert.equal(authorization, 'Bearer test-token');
  assert.deepEqual(body.involvedObject, { apiVersion: 'v1', kind: 'Pod', name: POD.POD_NAME, namespace: 'shop', uid: POD.POD_UID });
  assert.equal(body.reason, 'Reloaded');
  assert.equal(body.type, 'Normal');
  assert.equal(body.message, 'reloaded config aaaaaaaaaaaa (generation 3) in 12 ms');
  assert.equal(body.metadata.namespace, 'shop');
  assert.match(body.metadata.name, /^web-7d9f-abcde\.[0-9a-f]+$/);
  assert.deepEqual(body.source, { component: 'reverse-proxy-reloader' });
  assert.equal(body.reportingComponent, 'reverse-proxy-reloader');
  assert.equal(body.reportingInstance, 'web-7d9f-abcde');
  assert.equal(body.action, 'Reload');
  assert.equal(body.count, 1);
  // The API server parses eventTime as MicroTime: exactly six fractional digits.
  assert.match(body.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.equal(body.firstTimestamp, body.lastTimestamp);
  assert.equal(metrics.kubeEvents.created, 1);
});

test('a failed reload becomes a Warning "ReloadFailed" Event carrying the proxy\'s message, cut to the API limit', async (t) => {
  const api = await startApiServer(t);
  const sink = createEventSink({ ...POD, KUBECONFIG: api.kubeconfig }, capturingLogger().logger, new ReloaderMetrics());
  sink.report(failed);
  sink.report({ ...failed, message: 'é'.repeat(2000) });
  await sink.idle();
  const [first, second] = api.posted.map((p) => p.body);
  assert.equal(first!.reason, 'ReloadFailed');
  assert.equal(first!.type, 'Warning');
  assert.equal(first!.message, `reload of config cccccccccccc failed: ${failed.message}`);
  assert.ok(Buffer.byteLength(second!.message) <= EVENT_MESSAGE_MAX_BYTES);
  assert.ok(second!.message.endsWith('…'));
  assert.ok(!second!.message.includes('\uFFFD'), 'no character cut in half');
});

test('RBAC refusal (403) is logged once with a hint, and later Events are still attempted', async (t) => {
  const api = await startApiServer(t, (_req, res) =>
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 403, reason: 'Forbidden', message: 'events is forbidden: User "system:serviceaccount:shop:web" cannot create resource "events"' })),
  );
  const { lines, logger } = capturingLogger();
  const metrics = new ReloaderMetrics();
  const sink = createEventSink({ ...POD, KUBECONFIG: api.kubeconfig }, logger, metrics);
  for (let i = 0; i < 3; i++) {
    sink.report(ok);
    await sink.idle();
  }
  assert.equal(api.posted.length, 3);
  assert.equal(metrics.kubeEvents.failed, 3);
  const warnings = lines.filter((l) => l.event === 'kube_event_failed' && l.level === 40);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.status, 403);
  assert.match(warnings[0]!.msg, /RBAC/);
  assert.match(warnings[0]!.err, /cannot create resource "events"/);
});

test('a hung API server never holds up the caller; excess Events are dropped and counted', async (t) => {
  const held: ServerResponse[] = [];
  const api = await startApiServer(t, (_req, res) => held.push(res));
  const metrics = new ReloaderMetrics();
  const sink = createEventSink({ ...POD, KUBECONFIG: api.kubeconfig }, capturingLogger().logger, metrics);
  for (let i = 0; i < MAX_PENDING_EVENTS + 5; i++) sink.report(ok);
  assert.equal(metrics.kubeEvents.dropped, 5);
  while (held.length < MAX_PENDING_EVENTS) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const res of held) res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  await sink.idle();
  assert.equal(metrics.kubeEvents.created, MAX_PENDING_EVENTS);
});

test('outside a cluster (no downward API env, or no token and no KUBECONFIG) it only logs, once', () => {
  for (const env of [{}, { ...POD }]) {
    const { lines, logger } = capturingLogger();
    const sink = createEventSink(env, logger, new ReloaderMetrics());
    sink.report(ok);
    assert.deepEqual(lines.map((l) => l.event), ['kube_events_disabled']);
  }
});
