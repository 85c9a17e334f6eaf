// A `restart` whose new workers cannot start (issue 12, item 1): all or nothing per slot. The
// old workers keep their slots, stay visible and routable, keep receiving reloads, the reply
// names the file and what is wrong with it, and the pool never grows past its size.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { get } from './helpers/http-client.ts';
import { childPids, showProc, startProxy, type ProxyProcess, RESTART_REPLY_MS, site } from './helpers/proxy-process.ts';
import { hasOpenssl, httpsGet, makeCertificate } from './helpers/tls.ts';
import { echo, startUpstream } from './helpers/upstream.ts';


/** Once the failed replacement has exited, the master's children are exactly the workers show proc lists. */
async function settledWorkers(proxy: ProxyProcess): Promise<{ listed: number[]; children: number[] }> {
  let listed: number[] = [];
  let children: number[] = [];
  for (let i = 0; i < 100; i++) {
    listed = (await showProc(proxy)).filter((r) => r.type === 'worker').map((r) => r.pid).sort((a, b) => a - b);
    children = await childPids(proxy.pid);
    if (children.length === listed.length) break;
    await sleep(50);
  }
  return { listed, children };
}

async function workerGenerations(proxy: ProxyProcess, pids: number[]): Promise<number[]> {
  return Promise.all(pids.map(async (pid) => JSON.parse(await proxy.admin(`@!${pid} show info json`)).generation as number));
}

describe('a restart whose workers cannot start', () => {
  test('TLS cert replaced by garbage: the master refuses it before touching a worker, the old workers keep their slots and every reload; no extra worker after the fix', { skip: !hasOpenssl() && 'openssl not installed' }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-restart-tls-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const good = makeCertificate(dir, 'new.test', 'good');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    await copyFile(good.cert, live.cert);
    await copyFile(good.key, live.key);
    const up = await startUpstream(echo('app'));
    t.after(() => up.close());
    const proxy = await startProxy({ t, workers: 2, tls: live, config: site('app.test', up.url) });
    const before = (await showProc(proxy)).filter((r) => r.type === 'worker').map((r) => r.pid).sort((a, b) => a - b);
    assert.equal(before.length, 2);

    await writeFile(`${live.cert}.tmp`, 'garbage\n');
    await rename(`${live.cert}.tmp`, live.cert);
    // Certificates are checked by the master when it loads the config, before any worker is touched.
    const reply = JSON.parse(await proxy.admin('restart', RESTART_REPLY_MS)) as { status: string; message: string };
    assert.equal(reply.status, 'error');
    assert.equal(reply.message.replace(/:\d+:/, ':N:'), `${proxy.configPath}:N: listeners[0].tls_cert: ${live.cert} is not a PEM certificate (no valid "-----BEGIN CERTIFICATE-----" block)`);

    const failed = await settledWorkers(proxy);
    assert.deepEqual(failed.listed, before, 'show proc lists the two original workers');
    assert.deepEqual(failed.children, before, 'and the master has no other child');
    for (const pid of before) assert.match(await proxy.admin(`@!${pid} status`), /^\{"status":"ok"/, `@!${pid} is routable`);
    const info = JSON.parse(await proxy.admin('show info json'));
    assert.equal(info.generation, 1, 'the failed restart did not count as a generation');
    assert.equal(info.last_reload_result, 'failed');

    // Fixed: a reload reaches both old workers, and every new connection is served by the new sites.
    await copyFile(good.cert, live.cert);
    await proxy.writeConfig(site('app.test', up.url) + site('new.test', up.url));
    assert.equal(JSON.parse(await proxy.admin('reload')).status, 'ok', 'ok, with a warning that app.test is not covered by the new.test certificate');
    assert.deepEqual(await workerGenerations(proxy, before), [2, 2]);
    for (let i = 0; i < 12; i++) assert.equal((await httpsGet(proxy.port, 'new.test', good.cert)).status, 200, `connection ${i} reached a worker with the reloaded sites`);

    // The next restart replaces both, and the pool holds two workers, not three.
    assert.equal(JSON.parse(await proxy.admin('restart', RESTART_REPLY_MS)).status, 'ok');
    const fixed = await settledWorkers(proxy);
    assert.equal(fixed.listed.length, 2);
    assert.deepEqual(fixed.children, fixed.listed);
    assert.ok(fixed.listed.every((pid) => !before.includes(pid)), 'both workers were replaced');
    assert.equal((await httpsGet(proxy.port, 'new.test', good.cert)).status, 200);
  });

  test('a new listener whose port is taken: nothing replaced, the reply says so, the old listener serves on', async (t) => {
    const up = await startUpstream(echo('app'));
    t.after(() => up.close());
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => squatter.close(resolve)));
    const taken = (squatter.address() as AddressInfo).port;
    const proxy = await startProxy({ t, workers: 2, config: site('app.test', up.url) });
    const before = (await showProc(proxy)).filter((r) => r.type === 'worker').map((r) => r.pid).sort((a, b) => a - b);

    const current = await readFile(proxy.configPath, 'utf8');
    await writeFile(`${proxy.configPath}.tmp`, `${current}\n[[listeners]]\naddress = "127.0.0.1"\nport = ${taken}\n`);
    await rename(`${proxy.configPath}.tmp`, proxy.configPath);
    assert.equal(
      await proxy.admin('restart', RESTART_REPLY_MS),
      `${JSON.stringify({ status: 'error', message: `worker 1 could not start: listener 127.0.0.1:${taken}: cannot listen: address already in use (EADDRINUSE); no worker was replaced, all keep serving the previous config` })}\n`,
    );
    const after = await settledWorkers(proxy);
    assert.deepEqual(after.listed, before);
    assert.deepEqual(after.children, before);
    assert.equal((await get(proxy.port, 'app.test')).status, 200);
    // The master still runs the old static settings: a reload says the listeners need a restart.
    assert.equal(await proxy.admin('reload'), '{"status":"ok","warnings":["listeners changed: restart required to apply it (use the restart command)"]}\n');
  });
});
