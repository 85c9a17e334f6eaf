// A client that half-closes (shuts down its sending side, as `printf … | nc` does) on the real
// binary with 2 workers and a real scrape. After a complete request it is answered, with
// `Connection: close` since it can send no other request, and counted under the reply's status,
// not as `client_closed`: nginx would call the FIN a client abort (499) and drop a request it
// could have served. In the middle of a body the request can never be complete: that one is
// `client_closed`, 499, like a reset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROXY_REASONS, STATUS_CLASSES } from '../src/metrics/layout.ts';
import { METRICS_TABLE, accessLinesWith, scrape, siteFigures, upstreamHas } from './helpers/metrics.ts';
import { startProxy, site } from './helpers/proxy-process.ts';
import { fieldValues, RawClient, statusOf } from './helpers/raw-http.ts';
import { startUpstream } from './helpers/upstream.ts';

test('half-close: after a whole request the client is answered and counted by status; in the middle of the body it is client_closed', async (t) => {
  // Holds every answer until released, so each FIN arrives while the request waits for it.
  const held: (() => void)[] = [];
  const upstream = await startUpstream((_req, res) => held.push(() => res.end('late')));
  t.after(() => {
    for (const release of held) release();
    return upstream.close();
  });
  const proxy = await startProxy({ t, workers: 2, config: METRICS_TABLE + site('hc.test', upstream.url) });

  const answered = 3;
  const waiting: RawClient[] = [];
  for (let i = 0; i < answered; i++) {
    const client = await RawClient.open(proxy.port);
    client.write(`GET /wait/${i} HTTP/1.1\r\nHost: hc.test\r\n\r\n`);
    await upstreamHas(upstream, i + 1);
    client.socket.end(); // the FIN: nothing more will come from this client
    waiting.push(client);
  }
  const midBody = 2;
  for (let i = 0; i < midBody; i++) {
    const client = await RawClient.open(proxy.port);
    client.write('POST /upload HTTP/1.1\r\nHost: hc.test\r\nContent-Length: 10\r\n\r\n01234');
    client.socket.end();
    assert.equal(await client.closed, '', 'a body that can never be complete gets no answer');
  }
  await accessLinesWith(proxy, 'ERR_CLIENT_CLOSED', midBody);
  for (const release of held.splice(0)) release();
  for (const client of waiting) {
    const response = await client.response();
    assert.ok(response, `the half-closed client got no answer: ${JSON.stringify(client.received)}`);
    assert.equal(statusOf(response), 200);
    assert.equal(response.body, 'late');
    assert.deepEqual(fieldValues(response, 'connection'), ['close'], 'a client that sent its FIN can send no other request');
    assert.ok(await client.closesWithin(5_000), 'the proxy closes the connection after the answer');
  }
  const done = () => proxy.logs.filter((l) => l.event === 'access' && l.status === 200).length;
  if (done() < answered) await proxy.waitForLog(() => done() >= answered);

  const families = await scrape(proxy);
  const figures = siteFigures(families, 'hc.test');
  assert.deepEqual(
    { classes: figures.classes, reasons: figures.reasons },
    {
      classes: { ...Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])), '2xx': answered, '4xx': midBody },
      reasons: { ...Object.fromEntries(PROXY_REASONS.map((r) => [r, 0])), client_closed: midBody },
    },
    'answered half-closes count as 2xx and no outcome; a half-close mid-body is 499, client_closed',
  );
  assert.equal(figures.durationCount, answered + midBody);
  assert.equal(figures.inFlight, 0);
  const statuses = proxy.logs.filter((l) => l.event === 'access').map((l) => `${l.status} ${l.error ?? '-'}`);
  assert.deepEqual(statuses.sort(), ['200 -', '200 -', '200 -', '499 ERR_CLIENT_CLOSED', '499 ERR_CLIENT_CLOSED']);
});
