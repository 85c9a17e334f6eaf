// The real reloader process against the real proxy, with the proxy's config dir turned into a
// kubelet-style ConfigMap volume: swaps, bursts, broken configs, a proxy that starts late or
// restarts, plain edits, Events on a stand-in API server, metrics and signals.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import { request } from 'undici';
import { startApiServer } from './helpers/kube-api.ts';
import { adoptAsConfigMapVolume, type ConfigMapVolume } from './helpers/kubelet.ts';
import { startLogged, type LoggedProcess } from './helpers/logged-process.ts';
import { startReloader } from './helpers/reloader-process.ts';
import { CLI, preamble, runCli, startProxy, type ProxyProcess, site } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';
import { until } from './helpers/until.ts';

const DEBOUNCE_MS = 100;
/** Time in which a spurious extra reload would have happened (several debounces and resyncs). */
const QUIET_MS = 2_500;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A second `serve` on an existing config, as a restarted proxy container would be. */
function startServe(t: TestContext, configPath: string): LoggedProcess {
  const proxy = startLogged('proxy', process.execPath, [CLI, 'serve', '--config', configPath]);
  t.after(() => proxy.stop());
  return proxy;
}

const reloaderReloads = (r: LoggedProcess) => r.logs.filter((l) => l.event === 'reload');
const proxyReloads = (p: ProxyProcess) => p.logs.filter((l) => l.event === 'reload');

async function hostServedBy(proxy: ProxyProcess, host: string): Promise<string | number> {
  const res = await request(proxy.url, { headers: { host } });
  const body = await res.body.text();
  return res.statusCode === 200 ? (JSON.parse(body) as { upstream: string }).upstream : res.statusCode;
}

async function showInfo(proxy: ProxyProcess) {
  return JSON.parse(await proxy.admin('show info json')) as { config_sha256: string; reloads: number; generation: number };
}

interface Rig {
  proxy: ProxyProcess;
  volume: ConfigMapVolume;
  upstreams: Record<'a' | 'b', Upstream>;
  /** The whole file for a given set of sites, with the harness's preamble. */
  file(sites: string): Record<string, string>;
}

/** A proxy whose config dir is a kubelet-style volume holding exactly the bytes it loaded. */
async function rig(t: TestContext): Promise<Rig> {
  const a = await startUpstream(echo('a'));
  const b = await startUpstream(echo('b'));
  t.after(() => Promise.all([a.close(), b.close()]));
  const proxy = await startProxy({ t, config: site('app.test', a.url) });
  const file = (sites: string) => ({ 'config.toml': preamble(proxy.dir, 1) + sites });
  const volume = await adoptAsConfigMapVolume(proxy.dir, file(site('app.test', a.url)));
  return { proxy, volume, upstreams: { a, b }, file };
}

const reloaderArgs = (proxy: ProxyProcess, ...extra: string[]) => ['--watch', proxy.dir, '--socket', proxy.socketPath, '--debounce-ms', String(DEBOUNCE_MS), ...extra];

describe('reloader with a real proxy', () => {
  test('one kubelet swap: exactly one reload, the new routing is served, metrics say so', async (t) => {
    const { proxy, volume, upstreams, file } = await rig(t);
    const reloader = startReloader(t, reloaderArgs(proxy, '--listen', '127.0.0.1:0'));
    const started = await reloader.waitForLog((l) => l.event === 'reloader_started');
    await reloader.waitForLog((l) => l.event === 'in_sync');
    assert.equal(proxyReloads(proxy).length, 0, 'in sync at start: no reload');

    const next = file(site('app.test', upstreams.b.url));
    await volume.swap(next);
    const reload = await reloader.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'ok');
    assert.equal(reload.sha256, sha(next['config.toml']!));
    assert.equal(typeof reload.duration_ms, 'number');
    assert.equal(await hostServedBy(proxy, 'app.test'), 'b');

    await sleep(QUIET_MS);
    assert.equal(reloaderReloads(reloader).length, 1);
    assert.equal(proxyReloads(proxy).length, 1);
    assert.equal((await showInfo(proxy)).reloads, 1);

    const metrics = await (await request(`http://${started.listen as string}/metrics`)).body.text();
    assert.match(metrics, /^reverse_proxy_reloader_reloads_total\{result="ok"\} 1$/m);
    assert.match(metrics, /^reverse_proxy_reloader_reloads_total\{result="failed"\} 0$/m);
    assert.match(metrics, /^reverse_proxy_reloader_last_reload_success 1$/m);
    assert.match(metrics, /^reverse_proxy_reloader_config_in_sync 1$/m);
    // Seconds to the microsecond at most, never a float's noise like 0.012345678901 or 0.30000000000000004.
    assert.match(metrics, /^reverse_proxy_reloader_last_reload_duration_seconds \d+(\.\d{1,6})?$/m);
    assert.match(metrics, /^reverse_proxy_reloader_last_reload_timestamp_seconds \d+(\.\d{1,3})?$/m);
    const health = await request(`http://${started.listen as string}/healthz`);
    assert.equal(health.statusCode, 200);
    await health.body.dump();

    // Sent twice, as podman stop does: the second one must not cut the clean shutdown short.
    reloader.child.kill('SIGTERM');
    reloader.child.kill('SIGTERM');
    assert.equal((await reloader.exited).code, 0);
    assert.ok(reloader.logs.some((l) => l.event === 'reloader_stopped'));
  });

  test('SIGTERMs that keep coming while it exits never end it by signal: exit 0, every time', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-reloader-stop-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'config.toml'), '');
    for (let round = 0; round < 3; round++) {
      const reloader = startReloader(t, ['--watch', dir, '--socket', join(dir, 'none.sock'), '--socket-retry-max-ms', '200']);
      await reloader.waitForLog((l) => l.event === 'reloader_started');
      // podman stop repeats SIGTERM; one may land while Node is tearing the process down.
      reloader.child.kill('SIGTERM');
      const repeat = setInterval(() => reloader.child.kill('SIGTERM'), 1);
      const exit = await reloader.exited;
      clearInterval(repeat);
      assert.deepEqual(exit, { code: 0, signal: null }, `round ${round}\n${reloader.tail(5)}`);
    }
  });

  test('ten swaps in a burst: one or two reloads, ending on the last content', async (t) => {
    const { proxy, volume, upstreams, file } = await rig(t);
    const reloader = startReloader(t, reloaderArgs(proxy));
    await reloader.waitForLog((l) => l.event === 'in_sync');
    let last = file('');
    for (let i = 1; i <= 10; i++) {
      last = file(site('app.test', (i % 2 ? upstreams.b : upstreams.a).url) + site(`v${i}.test`, upstreams.b.url));
      await volume.swap(last);
    }
    const lastSha = sha(last['config.toml']!);
    await reloader.waitForLog((l) => l.event === 'reload' && l.sha256 === lastSha);
    await sleep(QUIET_MS);
    const reloads = proxyReloads(proxy).length;
    assert.ok(reloads >= 1 && reloads <= 2, `proxy reloads: ${reloads}`);
    assert.equal((await showInfo(proxy)).config_sha256, lastSha);
    assert.equal(await hostServedBy(proxy, 'v10.test'), 'b');
  });

  test('a broken config: one failed reload, logged, no retry storm; the next good swap reloads', async (t) => {
    const { proxy, volume, upstreams, file } = await rig(t);
    const reloader = startReloader(t, reloaderArgs(proxy, '--resync-secs', '1'));
    await reloader.waitForLog((l) => l.event === 'in_sync');

    await volume.swap(file(`${site('app.test', upstreams.b.url)}[[sites]]\nhost = "x.test"\nupstream = "not a url"\n`));
    const failed = await reloader.waitForLog((l) => l.event === 'reload');
    assert.equal(failed.result, 'failed');
    assert.equal(failed.level, 'error');
    assert.match(String(failed.message), /config\.toml:\d+: .*not a URL/);
    // Several resyncs pass; the same broken content is never sent again.
    await sleep(QUIET_MS + 1_000);
    assert.equal(reloaderReloads(reloader).length, 1);
    assert.equal(proxyReloads(proxy).length, 1);
    assert.equal(await hostServedBy(proxy, 'app.test'), 'a', 'the proxy keeps serving the old config');

    // Reverting the ConfigMap to what runs needs no reload, but the reloader says it is back in sync.
    const original = file(site('app.test', upstreams.a.url));
    await volume.swap(original);
    const back = await reloader.waitForLog((l) => l.event === 'in_sync' && l.refused_sha256 !== undefined);
    assert.equal(back.sha256, sha(original['config.toml']!));
    assert.equal(back.refused_sha256, failed.sha256);
    assert.match(String(back.msg), /^back in sync: the proxy runs the mounted config [0-9a-f]{12}; the refused config [0-9a-f]{12} is no longer mounted$/);
    assert.equal(proxyReloads(proxy).length, 1, 'the revert sent no reload');

    const good = file(site('app.test', upstreams.b.url));
    await volume.swap(good);
    const ok = await reloader.waitForLog((l) => l.event === 'reload' && l.result === 'ok');
    assert.equal(ok.sha256, sha(good['config.toml']!));
    assert.equal(await hostServedBy(proxy, 'app.test'), 'b');
  });

  test('a proxy that starts after the reloader is picked up without deadlock or crash', async (t) => {
    const { proxy, volume, upstreams, file } = await rig(t);
    await proxy.stop();
    const reloader = startReloader(t, reloaderArgs(proxy, '--socket-retry-max-ms', '200'));
    const waiting = await reloader.waitForLog((l) => l.event === 'proxy_unreachable');
    assert.equal(waiting.level, 'warn');

    // The ConfigMap changes while the proxy is down: it will read the new file when it starts.
    const next = file(site('app.test', upstreams.b.url));
    await volume.swap(next);
    await sleep(500);
    assert.equal(reloader.child.exitCode, null, 'still running');
    assert.ok(reloader.logs.filter((l) => l.event === 'proxy_unreachable').length <= 2, 'warnings are rate-limited');

    startServe(t, proxy.configPath);
    const synced = await reloader.waitForLog((l) => l.event === 'in_sync');
    assert.equal(synced.sha256, sha(next['config.toml']!));
    assert.ok(reloader.logs.some((l) => l.event === 'proxy_reachable'));
    assert.equal(reloaderReloads(reloader).length, 0, 'nothing to reload: the proxy loaded the new file at start');

    await volume.swap(file(site('app.test', upstreams.a.url)));
    const reload = await reloader.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'ok');
  });

  test('a proxy restarted mid-way is picked up and reloaded on the next change', async (t) => {
    const { proxy, volume, upstreams, file } = await rig(t);
    const reloader = startReloader(t, reloaderArgs(proxy, '--socket-retry-max-ms', '200'));
    await reloader.waitForLog((l) => l.event === 'in_sync');
    await proxy.stop();

    await startServe(t, proxy.configPath).waitForLog((l) => l.event === 'ready');

    const next = file(site('app.test', upstreams.b.url));
    await volume.swap(next);
    const reload = await reloader.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'ok');
    assert.equal(reload.sha256, sha(next['config.toml']!));
    const info = await showInfo(proxy);
    assert.equal(info.config_sha256, sha(next['config.toml']!));
    assert.equal(info.reloads, 1);
  });

  test('plain in-place edits of a regular file (outside Kubernetes) are reloaded', async (t) => {
    const a = await startUpstream(echo('a'));
    const b = await startUpstream(echo('b'));
    t.after(() => Promise.all([a.close(), b.close()]));
    const proxy = await startProxy({ t, config: site('app.test', a.url) });
    const reloader = startReloader(t, reloaderArgs(proxy));
    await reloader.waitForLog((l) => l.event === 'in_sync');

    await writeFile(proxy.configPath, preamble(proxy.dir, 1) + site('app.test', b.url));
    await reloader.waitForLog((l) => l.event === 'reload' && l.result === 'ok');
    assert.equal(await hostServedBy(proxy, 'app.test'), 'b');

    await proxy.writeConfig(site('app.test', a.url));
    await reloader.waitForLog((l) => reloaderReloads(reloader).length === 2 && l.event === 'reload');
    assert.equal(await hostServedBy(proxy, 'app.test'), 'a');
  });

  test('reload outcomes become Events on the pod (stand-in API server via KUBECONFIG)', async (t) => {
    const api = await startApiServer(t);
    const { proxy, volume, upstreams, file } = await rig(t);
    const pod = { POD_NAME: 'web-0', POD_NAMESPACE: 'shop', POD_UID: '5f0e2c1a-0000-4000-8000-00000000abcd' };
    const reloader = startReloader(t, reloaderArgs(proxy), { KUBECONFIG: api.kubeconfig, ...pod });
    await reloader.waitForLog((l) => l.event === 'in_sync');

    await volume.swap(file(site('app.test', upstreams.b.url)));
    await reloader.waitForLog((l) => l.event === 'reload');
    await volume.swap(file('[[sites]]\nhost = "app.test"\nupstream = "nope"\n'));
    await reloader.waitForLog((l) => l.event === 'reload' && l.result === 'failed');
    await until(() => api.posted.length >= 2, 'two Events');

    const [reloaded, failed] = api.posted.map((p) => p.body);
    for (const event of [reloaded!, failed!]) {
      assert.deepEqual(event.involvedObject, { apiVersion: 'v1', kind: 'Pod', name: 'web-0', namespace: 'shop', uid: pod.POD_UID });
      assert.equal(event.source.component, 'reverse-proxy-reloader');
    }
    assert.equal(reloaded!.reason, 'Reloaded');
    assert.equal(reloaded!.type, 'Normal');
    assert.match(reloaded!.message, /^reloaded config [0-9a-f]{12} \(generation 2\) in \d+ ms$/);
    assert.equal(failed!.reason, 'ReloadFailed');
    assert.equal(failed!.type, 'Warning');
    assert.match(failed!.message, /^reload of config [0-9a-f]{12} failed: .*config\.toml:\d+: sites\[0\]\.upstream\[0\]: "nope" is not a URL or the name of an \[\[upstreams\]\] group/);
  });

  test('a --listen address that cannot be bound exits 1 with a message', async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const reloader = startReloader(t, ['--watch', tmpdir(), '--socket', '/tmp/none.sock', '--listen', `127.0.0.1:${(taken.address() as AddressInfo).port}`]);
    assert.equal((await reloader.exited).code, 1);
    const failed = await reloader.waitForLog((l) => l.event === 'listen_failed');
    assert.match(String(failed.msg), /EADDRINUSE/);
  });

  test('--help exits 0; a bad flag exits 2 with a message', async () => {
    const help = await runCli(['reloader', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--retry-failed-secs/);
    const bad = await runCli(['reloader', '--watch', '/tmp', '--debounce-ms', 'soon']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--debounce-ms "soon": expected a whole number/);
  });
});
