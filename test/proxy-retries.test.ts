// Retries through the real binary: a failed request lands on another server, only when it can
// be sent again safely (never a POST whose body reached a server), at most `attempts` times,
// and never more than the retry budget allows while every server is failing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { send } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

/** Answers every request with `status`. */
const failing = (status: number) => startUpstream((_req, res) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`upstream says ${status}\n`));

const groupConfig = (servers: readonly Upstream[], retries: string) => `
[[upstreams]]
name = "app"
servers = [${servers.map((u) => `"${u.url}"`).join(', ')}]
retries = ${retries}

[[sites]]
host = "app.test"
upstream = "app"
`;

const accessOf = (proxy: ProxyProcess, path: string) => proxy.waitForLog((l) => l.event === 'access' && l.path === path);

test('a GET answered 503 is retried on the other server; a POST with a body is not', async (t) => {
  const bad = await failing(503);
  const good = await startUpstream(echo('good'));
  t.after(() => Promise.all([bad.close(), good.close()]));
  const proxy = await startProxy({ t, config: groupConfig([bad, good], '{ attempts = 2, on = ["503"] }') });

  for (let i = 0; i < 6; i++) {
    const reply = await send(proxy.port, { path: `/get-${i}`, headers: { host: 'app.test' } });
    assert.equal(reply.status, 200, reply.body);
    assert.equal((JSON.parse(reply.body) as { upstream: string }).upstream, 'good');
  }
  // Round-robin sent half of the first attempts to the bad server; each of those took two.
  const logged = await Promise.all(Array.from({ length: 6 }, (_, i) => accessOf(proxy, `/get-${i}`)));
  assert.deepEqual(logged.map((l) => l.attempts).sort(), [1, 1, 1, 2, 2, 2]);
  assert.ok(logged.every((l) => l.upstream === good.url), 'the access log names the server that answered');
  assert.equal(bad.requests.length, 3);

  const badBefore = bad.requests.length;
  const goodBefore = good.requests.length;
  const posts = await Promise.all(
    Array.from({ length: 4 }, (_, i) => send(proxy.port, { path: `/post-${i}`, method: 'POST', headers: { host: 'app.test', 'content-length': '5' }, chunks: ['hello'] })),
  );
  const toBad = bad.requests.length - badBefore;
  assert.ok(toBad >= 1, 'round-robin sent some POSTs to the bad server');
  assert.equal(posts.filter((r) => r.status === 503).length, toBad, 'each POST the bad server got was answered with its 503, not retried');
  assert.equal(good.requests.length - goodBefore, 4 - toBad, 'no POST reached the good server twice or after the bad one');
  assert.ok(posts.filter((r) => r.status === 503).every((r) => r.body === 'upstream says 503\n'), "the upstream's own answer is relayed");
});

test('a failed connect is retried on another server, even for a POST, since nothing was sent', async (t) => {
  const gone = await startUpstream();
  await gone.close();
  const good = await startUpstream(echo('good'));
  t.after(() => good.close());
  const proxy = await startProxy({ t, config: groupConfig([gone, good], '{ attempts = 1 }') });
  const reply = await send(proxy.port, { path: '/upload', method: 'POST', headers: { host: 'app.test', 'content-length': '4' }, chunks: ['data'] });
  assert.equal(reply.status, 200);
  assert.equal((JSON.parse(reply.body) as { bodyBytes: number }).bodyBytes, 4, 'the whole body reached the server that answered');
  const line = await accessOf(proxy, '/upload');
  assert.ok(line.attempts === 1 || line.attempts === 2, 'first to the good server, or retried there');
  await proxy.waitForLog((l) => l.event === 'upstream_down' && l.upstream === gone.url);
});

test('attempts bounds the retries, each to a server not tried yet', async (t) => {
  const servers = await Promise.all([failing(502), failing(502), failing(502), failing(502)]);
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const proxy = await startProxy({ t, config: groupConfig(servers, '{ attempts = 2, on = ["502"] }') });
  const reply = await send(proxy.port, { path: '/x', headers: { host: 'app.test' } });
  assert.equal(reply.status, 502);
  assert.equal(reply.body, 'upstream says 502\n', 'the last answer is relayed');
  assert.equal((await accessOf(proxy, '/x')).attempts, 3);
  const hits = servers.map((s) => s.requests.length);
  assert.equal(hits.reduce((a, b) => a + b, 0), 3);
  assert.ok(hits.every((h) => h <= 1), `never the same server twice: ${hits}`);
});

test('the retry budget holds during a total outage: at most 3 requests retry at once', async (t) => {
  // Every server answers 503. The 20 first sends are held until all have arrived, so all 20
  // are in flight together when they fail; a retry is answered 500 ms after it arrives, so the
  // retries hold their place in the budget while the other failures are decided. With
  // budget_percent = 0 only the floor of 3 may retry.
  const REQUESTS = 20;
  const held: (() => void)[] = [];
  let arrived = 0;
  const answer = (res: import('node:http').ServerResponse) => () => res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream says 503\n');
  const outage = () =>
    startUpstream((_req, res) => {
      arrived++;
      if (arrived > REQUESTS) return void setTimeout(answer(res), 500);
      held.push(answer(res));
      if (arrived === REQUESTS) for (const release of held.splice(0)) release();
    });
  const servers = await Promise.all([outage(), outage(), outage()]);
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const proxy = await startProxy({ t, config: groupConfig(servers, '{ attempts = 2, on = ["503"], budget_percent = 0 }') });
  const replies = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => send(proxy.port, { path: `/outage-${i}`, headers: { host: 'app.test' } })));
  assert.ok(replies.every((r) => r.status === 503 && r.body === 'upstream says 503\n'));
  const attempts = (await Promise.all(replies.map((_, i) => accessOf(proxy, `/outage-${i}`)))).map((l) => l.attempts as number);
  const retried = attempts.filter((a) => a > 1).length;
  assert.equal(retried, 3, `attempts per request: ${attempts.join(',')}`);
  assert.ok(attempts.every((a) => a <= 3), 'each retried request stops at attempts');
  const hits = servers.reduce((n, s) => n + s.requests.length, 0);
  assert.equal(hits, REQUESTS + 3 * 2, `${hits} requests reached the servers; without the budget it would be ${REQUESTS * 3}`);
});
