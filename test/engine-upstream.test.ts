// The upstream side of the HTTP/1.1 engine against raw-socket upstreams: the keep-alive race,
// the per-upstream connection cap and its queue, interim 1xx responses, and responses the
// strict parser refuses (502, never relayed).
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { send } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { rawRoundTrip } from './helpers/raw-http.ts';
import { okResponse, startRecordingUpstream, type RecordingUpstream } from './helpers/recording-upstream.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the racing upstream lets a connection sit idle before it silently drops it. */
const IDLE_CLOSE_MS = 200;

describe('upstream connections', () => {
  let racing: RecordingUpstream;
  let dropped = 0;
  let slow: RecordingUpstream;
  let interim: RecordingUpstream;
  let broken: RecordingUpstream;
  /** Answers every request on a connection it keeps open, and notes which connection carried it. */
  let persistent: RecordingUpstream;
  const persistentConnections: number[] = [];
  let proxy: ProxyProcess;

  before(async () => {
    // Closes a connection idle for IDLE_CLOSE_MS without a word, and (to hit the race every
    // time rather than by luck) drops a request that arrives on a connection idle for nearly
    // that long, as if its close had crossed the request on the wire.
    const lastActive = new Map<number, number>();
    racing = await startRecordingUpstream((_request, { socket, connection, previous }) => {
      const idleFor = Date.now() - (lastActive.get(connection) ?? Date.now());
      if (previous > 0 && idleFor >= IDLE_CLOSE_MS - 40) {
        dropped++;
        socket.destroy();
        return undefined;
      }
      socket.write(okResponse(`answer ${connection}`));
      lastActive.set(connection, Date.now());
      const stamp = Date.now();
      setTimeout(() => {
        if (lastActive.get(connection) === stamp) socket.destroy();
      }, IDLE_CLOSE_MS);
      return undefined;
    });
    slow = await startRecordingUpstream(() => ({ bytes: okResponse('slow'), delayMs: 150 }));
    interim = await startRecordingUpstream((request) => {
      if (request.startLine.startsWith('GET /upgrade-unasked')) return { bytes: 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n' };
      return { bytes: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n' + okResponse('final') };
    });
    broken = await startRecordingUpstream((request) => {
      const path = request.startLine.split(' ')[1];
      if (path === '/two-lengths') return { bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 6\r\ncontent-length: 7\r\n\r\nsecret' };
      if (path === '/obs-fold') return { bytes: 'HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 6\r\n\r\nsecret' };
      if (path === '/bad-chunk') return { bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\nzz\r\n' };
      return { bytes: 'HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 6\r\n\r\nsecret' };
    });
    persistent = await startRecordingUpstream((_request, { connection }) => {
      persistentConnections.push(connection);
      return { bytes: okResponse('kept') };
    });
    proxy = await startProxy({
      config: `
[[sites]]
host = "race.test"
upstream = "${racing.url}"

[[sites]]
host = "persistent.test"
upstream = "${persistent.url}"

[[sites]]
host = "capped.test"
upstream = "${slow.url}"
max_connections = 2

[[sites]]
host = "interim.test"
upstream = "${interim.url}"

[[sites]]
host = "broken.test"
upstream = "${broken.url}"
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([racing?.close(), slow?.close(), interim?.close(), broken?.close(), persistent?.close()]);
  });

  it('sends no Connection line with an HTTP/1.1 request, and the next request reuses the connection', async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await send(proxy.port, { headers: { host: 'persistent.test', connection: 'keep-alive' } });
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'kept');
    }
    assert.equal(persistent.requests.length, 3);
    for (const request of persistent.requests) {
      assert.match(request.startLine, / HTTP\/1\.1$/);
      assert.deepEqual(request.headers.filter(([name]) => /^(connection|keep-alive)$/i.test(name)), [], request.raw);
    }
    // Persistent by default (RFC 9112 §9.3): all three on the first connection the pool opened.
    assert.deepEqual(persistentConnections, [0, 0, 0]);
  });

  it('resends once on a new connection when a reused one was closed by the upstream: 0 failed requests', { timeout: 20_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const statuses: number[] = [];
      // Intervals on both sides of the upstream's idle close, so requests meet connections
      // that are fresh, about to be dropped, and already gone.
      for (let i = 0; i < 24; i++) {
        statuses.push((await send(proxy.port, { path: `/r${i}`, headers: { host: 'race.test' }, agent })).status);
        await sleep(IDLE_CLOSE_MS - 60 + ((i * 13) % 100));
      }
      assert.deepEqual(statuses, Array(24).fill(200));
      assert.ok(dropped > 0, 'the race was hit at least once (else this test proves nothing)');
      assert.equal(proxy.logs.filter((l) => l.event === 'upstream_error').length, 0);
    } finally {
      agent.destroy();
    }
  });

  it('opens at most max_connections to an upstream and queues the rest in order: all succeed', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(proxy.port, { path: `/q${i}`, headers: { host: 'capped.test' } })));
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(10).fill(200),
    );
    assert.ok(slow.peakOpen <= 2, `upstream saw ${slow.peakOpen} connections at once`);
    assert.equal(slow.requests.length, 10);
  });

  it('skips an unasked 100 Continue and a 103, relaying only the final response', async () => {
    const reply = await rawRoundTrip(proxy.port, 'GET /hints HTTP/1.1\r\nHost: interim.test\r\nConnection: close\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(reply, /HTTP\/1\.1 10[03]/);
    assert.match(reply, /\r\n\r\nfinal$/);
  });

  it('answers 502 to a 101 for a request that asked for no upgrade', async () => {
    const reply = await send(proxy.port, { path: '/upgrade-unasked', headers: { host: 'interim.test' } });
    assert.equal(reply.status, 502);
  });

  for (const path of ['/two-lengths', '/obs-fold', '/no-colon']) {
    it(`answers 502 to a response the parser refuses (${path}) and relays none of it`, async () => {
      const reply = await rawRoundTrip(proxy.port, `GET ${path} HTTP/1.1\r\nHost: broken.test\r\nConnection: close\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 502 /);
      assert.doesNotMatch(reply, /secret/);
      const logged = await proxy.waitForLog((l) => l.event === 'upstream_error' && l.path === path);
      assert.match(String(logged.msg), /ERR_RESPONSE_INVALID/);
    });
  }

  it('cuts the client connection when a chunked body turns invalid after the head was relayed', async () => {
    const reply = await rawRoundTrip(proxy.port, 'GET /bad-chunk HTTP/1.1\r\nHost: broken.test\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(reply, /0\r\n\r\n$/, 'the response must not look complete');
  });
});
