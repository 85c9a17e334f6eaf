// The proxy-made reasons the traffic test cannot make with plain requests, on the real binary
// with 2 workers and a real scrape: a body over the site's limit (413, by its declared length or
// while it streams), a client that goes away while the upstream is still answering (before the
// response head and in the middle of its body) or stops reading until the send timeout closes
// it, and a drain whose deadline cuts requests in flight (by `restart`, after which the master
// still serves the scrape). Each is counted by reason, site and status class, exactly as many
// times as it happened, once in the histogram.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROXY_REASONS, STATUS_CLASSES } from '../src/metrics/layout.ts';
import { METRICS_TABLE, accessLinesWith, scrape, siteFigures, upstreamHas } from './helpers/metrics.ts';
import { sampleValue } from './helpers/prom-text.ts';
import { RESTART_REPLY_MS, startProxy, site } from './helpers/proxy-process.ts';
import { RawClient, statusOf } from './helpers/raw-http.ts';
import { echo, startUpstream } from './helpers/upstream.ts';

/** Every status class and every reason at 0 except those given. */
function only(counts: { classes?: Record<string, number>; reasons?: Record<string, number> }) {
  return {
    classes: { ...Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])), ...counts.classes },
    reasons: { ...Object.fromEntries(PROXY_REASONS.map((r) => [r, 0])), ...counts.reasons },
  };
}

test('body_too_large: a declared length over the limit and a chunked body that passes it, each a 413', async (t) => {
  const upstream = await startUpstream(echo('app'));
  t.after(() => upstream.close());
  const proxy = await startProxy({ t, workers: 2, config: METRICS_TABLE + site('big.test', upstream.url, 'body_limit_bytes = 10') });
  const declared = 3;
  for (let i = 0; i < declared; i++) {
    const client = await RawClient.open(proxy.port);
    client.write(`POST /upload HTTP/1.1\r\nHost: big.test\r\nContent-Length: 20\r\n\r\n${'x'.repeat(20)}`);
    assert.equal(statusOf((await client.response())!), 413);
    client.destroy();
  }
  // Refused before any upstream: the declared length says it all.
  assert.equal(upstream.requests.length, 0);
  const streamed = 2;
  for (let i = 0; i < streamed; i++) {
    const client = await RawClient.open(proxy.port);
    client.write(`POST /upload HTTP/1.1\r\nHost: big.test\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n${'y'.repeat(8)}\r\n8\r\n${'y'.repeat(8)}\r\n0\r\n\r\n`);
    assert.equal(statusOf((await client.response())!), 413);
    client.destroy();
  }
  // One request under the limit: it goes through and is no outcome of the proxy's.
  const fits = await RawClient.open(proxy.port);
  fits.write('POST /upload HTTP/1.1\r\nHost: big.test\r\nContent-Length: 10\r\n\r\n0123456789');
  assert.equal(statusOf((await fits.response())!), 200);
  fits.destroy();
  const sent = declared + streamed + 1;
  await accessLinesWith(proxy, 'ERR_BODY_LIMIT', declared + streamed);

  const families = await scrape(proxy);
  const figures = siteFigures(families, 'big.test');
  assert.deepEqual({ classes: figures.classes, reasons: figures.reasons }, only({ classes: { '2xx': 1, '4xx': declared + streamed }, reasons: { body_too_large: declared + streamed } }));
  assert.equal(figures.durationCount, sent, 'the duration histogram counts every request');
  assert.equal(figures.firstByteCount, 1, 'only the request that fitted got an upstream response');
  assert.equal(figures.inFlight, 0);
  // A chunked body is on its way upstream when it passes the limit: that server's row counts it.
  const server = { site: 'big.test', server: upstream.url };
  assert.equal(sampleValue(families, 'reverse_proxy_server_proxy_outcomes_total', { ...server, reason: 'body_too_large' }), streamed);
  assert.equal(sampleValue(families, 'reverse_proxy_server_requests_total', { ...server, code_class: '4xx' }), streamed);
  assert.equal(sampleValue(families, 'reverse_proxy_server_request_duration_seconds_count', server), streamed + 1);
});

test('client_closed: a client that resets while the upstream has not answered (499) or is still sending the body (200)', async (t) => {
  // Holds every response until released; `/partial` first sends the head and half of the body.
  const held: (() => void)[] = [];
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/partial') {
      res.writeHead(200, { 'content-length': '10' });
      res.write('01234');
    }
    held.push(() => res.end(req.url === '/partial' ? '56789' : 'late'));
  });
  t.after(() => {
    for (const release of held) release();
    return upstream.close();
  });
  const proxy = await startProxy({ t, workers: 2, config: METRICS_TABLE + site('cc.test', upstream.url) });
  const beforeHead = 3;
  for (let i = 0; i < beforeHead; i++) {
    const client = await RawClient.open(proxy.port);
    client.write('GET /wait HTTP/1.1\r\nHost: cc.test\r\n\r\n');
    await upstreamHas(upstream, i + 1);
    client.socket.resetAndDestroy();
    await client.closed;
  }
  const midBody = 2;
  for (let i = 0; i < midBody; i++) {
    const client = await RawClient.open(proxy.port);
    client.write('GET /partial HTTP/1.1\r\nHost: cc.test\r\n\r\n');
    await client.waitFor(/\r\n\r\n01234$/); // the head and half of the body reached the client
    client.socket.resetAndDestroy();
    await client.closed;
  }
  await accessLinesWith(proxy, 'ERR_CLIENT_CLOSED', beforeHead + midBody);
  // Answers arriving after the client left change nothing.
  for (const release of held.splice(0)) release();

  const families = await scrape(proxy);
  const figures = siteFigures(families, 'cc.test');
  assert.deepEqual(
    { classes: figures.classes, reasons: figures.reasons },
    only({ classes: { '2xx': midBody, '4xx': beforeHead }, reasons: { client_closed: beforeHead + midBody } }),
    'before the head: 499, so 4xx; in the body: the upstream status, 200',
  );
  assert.equal(figures.durationCount, beforeHead + midBody, 'the duration histogram counts every request');
  assert.equal(figures.firstByteCount, midBody, 'only the responses that had begun had a first byte');
  assert.equal(figures.inFlight, 0);
  const server = { site: 'cc.test', server: upstream.url };
  assert.equal(sampleValue(families, 'reverse_proxy_server_proxy_outcomes_total', { ...server, reason: 'client_closed' }), beforeHead + midBody);
  const statuses = proxy.logs.filter((l) => l.event === 'access' && l.error === 'ERR_CLIENT_CLOSED').map((l) => l.status);
  assert.deepEqual(statuses.sort(), [200, 200, 499, 499, 499]);
});

test('client_closed: a client that stops reading is closed by the send timeout (ERR_CLIENT_SEND_TIMEOUT), under the status it was sent', async (t) => {
  // Streams a body that never ends, as fast as the proxy takes it.
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
    };
    res.on('drain', pump);
    pump();
  });
  t.after(() => upstream.close());
  // The send timeout is the site's request_timeout_secs plus CLIENT_IDLE_GRACE_MS: 2 s here.
  const proxy = await startProxy({ t, workers: 2, config: METRICS_TABLE + site('stall.test', upstream.url, 'request_timeout_secs = 1') });
  const stalled = 2;
  const clients: RawClient[] = [];
  for (let i = 0; i < stalled; i++) {
    const client = await RawClient.open(proxy.port, `GET /stream/${i} HTTP/1.1\r\nHost: stall.test\r\n\r\n`);
    await client.waitFor(/^HTTP\/1\.1 200 /);
    client.socket.pause(); // reads nothing more: the socket buffers fill and the proxy's writes stall
    clients.push(client);
  }
  await accessLinesWith(proxy, 'ERR_CLIENT_SEND_TIMEOUT', stalled);
  for (const client of clients) {
    client.socket.resume();
    assert.ok(await client.closesWithin(15_000), 'the proxy closed the connection');
    assert.ok(!client.received.endsWith('\r\n0\r\n\r\n'), 'the body was cut, not finished');
  }

  const families = await scrape(proxy);
  const figures = siteFigures(families, 'stall.test');
  assert.deepEqual({ classes: figures.classes, reasons: figures.reasons }, only({ classes: { '2xx': stalled }, reasons: { client_closed: stalled } }), 'the reply had begun: its status, 200');
  assert.equal(figures.durationCount, stalled, 'the duration histogram counts every request');
  assert.equal(figures.firstByteCount, stalled);
  assert.equal(figures.inFlight, 0);
  const server = { site: 'stall.test', server: upstream.url };
  assert.equal(sampleValue(families, 'reverse_proxy_server_proxy_outcomes_total', { ...server, reason: 'client_closed' }), stalled);
  assert.equal(sampleValue(families, 'reverse_proxy_server_requests_total', { ...server, code_class: '2xx' }), stalled);
  assert.deepEqual(proxy.logs.filter((l) => l.event === 'access' && l.error === 'ERR_CLIENT_SEND_TIMEOUT').map((l) => l.status), [200, 200]);
});

test('drain_cut: requests a restart drain cuts at its deadline are counted, and the scrape after the restart shows them', async (t) => {
  const never = await startUpstream(() => undefined);
  t.after(() => never.close());
  const proxy = await startProxy({ t, workers: 2, shutdownTimeoutSecs: 0.5, config: METRICS_TABLE + site('cut.test', never.url) });
  const cut = 3;
  const clients = [];
  for (let i = 0; i < cut; i++) {
    const client = await RawClient.open(proxy.port);
    client.write(`GET /hang/${i} HTTP/1.1\r\nHost: cut.test\r\n\r\n`);
    clients.push(client);
  }
  await upstreamHas(never, cut);
  // Before the restart the requests are in flight, and nothing is counted as finished yet.
  const before = siteFigures(await scrape(proxy), 'cut.test');
  assert.equal(before.inFlight, cut);
  assert.equal(before.durationCount, 0);

  // restart replaces each worker and answers once the old ones, drained for 0.5 s, have exited.
  assert.equal(await proxy.admin('restart', RESTART_REPLY_MS), '{"status":"ok"}\n');
  for (const client of clients) {
    await client.closed;
    assert.equal(client.received, '', 'cut without a response');
  }
  await accessLinesWith(proxy, 'ERR_DRAIN_CUT', cut);

  const families = await scrape(proxy);
  const figures = siteFigures(families, 'cut.test');
  assert.deepEqual({ classes: figures.classes, reasons: figures.reasons }, only({ classes: { '4xx': cut }, reasons: { drain_cut: cut } }), 'cut requests count as 444');
  assert.equal(figures.durationCount, cut, 'the duration histogram counts every cut request');
  assert.equal(figures.inFlight, 0, 'the old workers are gone');
  assert.equal(sampleValue(families, 'reverse_proxy_server_proxy_outcomes_total', { site: 'cut.test', server: never.url, reason: 'drain_cut' }), cut);
  assert.equal(sampleValue(families, 'reverse_proxy_workers'), 2);
});
