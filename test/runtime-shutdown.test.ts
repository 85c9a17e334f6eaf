// SIGTERM drains: the readiness answer turns to an error at once, requests in flight finish,
// new connections are refused, the socket file is removed, and the exit code is 0; a connect
// nobody waits for any more does not hold the drain (what is still open after the deadline's cut
// would be named in `drain_incomplete`: test/still-open.test.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { startProxy } from './helpers/proxy-process.ts';
import { startUpstream } from './helpers/upstream.ts';

describe('shutdown', () => {
  test('SIGTERM (even twice): in-flight request completes, status says shutting down, exit 0', async (t) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = await startUpstream((_req, res) => void held.then(() => res.end('finished')));
    t.after(() => slow.close());
    const proxy = await startProxy({ t, config: `[[sites]]\ndefault = true\nupstream = "${slow.url}"\n` });

    const inFlight = request(proxy.url).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
    while (slow.requests.length === 0) await sleep(10);

    proxy.signal('SIGTERM');
    await proxy.waitForLog((l) => l.event === 'draining' && l.component === 'master');
    // Container runtimes can repeat SIGTERM: the drain goes on.
    proxy.signal('SIGTERM');
    await proxy.waitForLog((l) => l.event === 'shutdown_signal_repeated');
    assert.equal(await proxy.admin('status'), '{"status":"error","message":"shutting down"}\n');
    assert.equal(await proxy.admin('reload'), '{"status":"error","message":"shutting down"}\n');

    release();
    assert.deepEqual(await inFlight, { status: 200, body: 'finished' });
    const exit = await proxy.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(existsSync(proxy.socketPath), false, 'the admin socket file is removed');
    await assert.rejects(request(proxy.url), /ECONNREFUSED/);
  });

  test('a request still running at shutdown_timeout_secs is cut and the process exits 0', async (t) => {
    const never = await startUpstream(() => undefined);
    t.after(() => never.close());
    const proxy = await startProxy({
      t,
      raw: true,
      config: `admin_socket_path = ""\nshutdown_timeout_secs = 0.5\n[[listeners]]\naddress = "127.0.0.1"\nport = 0\n[[sites]]\ndefault = true\nupstream = "${never.url}"\n`,
    });
    const inFlight = request(proxy.url).then(
      (res) => res.statusCode,
      (err: Error) => err.message,
    );
    while (never.requests.length === 0) await sleep(10);
    proxy.signal('SIGTERM');
    assert.deepEqual(await proxy.exited, { code: 0, signal: null });
    const outcome = await inFlight;
    assert.notEqual(outcome, 200, 'the hung request did not pretend to succeed');
    // Logged as cut by the drain deadline (nginx's 444: closed without a response), not as a client abort.
    const line = proxy.logs.find((l) => l.event === 'access');
    assert.equal(line?.error, 'ERR_DRAIN_CUT');
    assert.equal(line?.status, 444);
  });

  test('a connect still opening for a client that left does not hold the drain to its deadline', async (t) => {
    // Accepts TCP and never answers the TLS handshake: the proxy's connection to it stays opening.
    const silent = createServer((socket) => socket.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    t.after(() => silent.close());
    const dialed = once(silent, 'connection') as Promise<[Socket]>;
    const upstream = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    // The connect timeout is past the drain deadline: a drain that waited for the connect would
    // reach its deadline with the connection still open and say so in `drain_incomplete`.
    const proxy = await startProxy({ t, shutdownTimeoutSecs: 20, config: `[[sites]]\ndefault = true\nupstream = "${upstream}"\nconnect_timeout_secs = 60\n` });
    const client = connect(proxy.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write('GET / HTTP/1.1\r\nHost: app.test\r\n\r\n');
    const [upstreamSide] = await dialed;
    t.after(() => upstreamSide.destroy());
    // The client gives up (a reset: after a FIN the proxy would still answer); the pool's
    // connection is left opening, for nobody.
    client.resetAndDestroy();
    await proxy.waitForLog((l) => l.event === 'access' && l.error === 'ERR_CLIENT_CLOSED');
    proxy.signal('SIGTERM');
    assert.deepEqual(await proxy.exited, { code: 0, signal: null });
    assert.deepEqual(proxy.logs.filter((l) => l.event === 'drain_incomplete'), []);
    assert.ok(proxy.logs.some((l) => l.event === 'shutdown' && l.component === 'worker'));
  });
});
