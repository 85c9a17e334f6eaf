// SIGTERM drains: the readiness answer turns to an error at once, requests in flight finish,
// new connections are refused, the socket file is removed, and the exit code is 0.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
});
