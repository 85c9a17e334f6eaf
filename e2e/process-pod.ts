// Stage 1: a pod made of real processes on this machine. The proxy, its reloader and two demo
// upstreams share what a pod shares: a temp "emptyDir" for the admin socket and a ConfigMap
// directory that is updated exactly the way kubelet does it (..data symlink swap).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createConfigMapVolume } from '../test/helpers/kubelet.ts';
import { ECHO_UPSTREAM_JS, listeningPorts } from './lib/echo-upstream.ts';
import { run } from './lib/exec.ts';
import { type LoggedProcess, startLogged } from '../test/helpers/logged-process.ts';
import { CLI, NODE } from './lib/paths.ts';
import { bodiesAround, get, startTraffic } from './lib/traffic.ts';

const HOST = 'shop.example.test';
/** Long enough for a reload of a small config on a busy 2-core machine, short enough to fail fast. */
const EVENT_TIMEOUT_MS = 20_000;

function config(socketPath: string, upstreamPort: number): string {
  return `admin_socket_path = "${socketPath}"
workers = 2
shutdown_timeout_secs = 10

[[listeners]]
address = "127.0.0.1"
port = 0

[[sites]]
host = "${HOST}"
upstream = "http://127.0.0.1:${upstreamPort}"
`;
}

/** The "app container": one process serving `blue` and `green` on free ports. */
async function startUpstreams(): Promise<{ process: LoggedProcess; blue: number; green: number }> {
  const process = startLogged('upstreams', NODE, ['-e', ECHO_UPSTREAM_JS], { UPSTREAMS: 'blue=0,green=0' });
  await process.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening green '), EVENT_TIMEOUT_MS);
  await process.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening blue '), EVENT_TIMEOUT_MS);
  const ports = listeningPorts(process.logs.map((l) => String(l.msg)));
  return { process, blue: ports.get('blue')!, green: ports.get('green')! };
}

/** The readiness probe exactly as kubelet runs it: exit status of `reverse-proxy ctl status`. */
async function probe(socketPath: string): Promise<number> {
  return (await run(NODE, [CLI, 'ctl', '--socket', socketPath, 'status'], { allowFailure: true, timeoutMs: 10_000 })).code;
}

describe('e2e stage 1: process-level pod (proxy + reloader + upstreams, kubelet-style ConfigMap)', () => {
  const processes: LoggedProcess[] = [];
  let podDir = '';
  after(async () => {
    for (const p of processes.reverse()) await p.stop(5_000);
    if (podDir) await rm(podDir, { recursive: true, force: true });
  });

  test('a ConfigMap update switches traffic with no failed request, one reload, and a drain that turns the probe unready', async (t) => {
    podDir = await mkdtemp(join(tmpdir(), 'rp-e2e-pod-'));
    const emptyDir = await mkdtemp(join(podDir, 'socket-'));
    const socketPath = join(emptyDir, 'admin.sock');
    const upstreams = await startUpstreams();
    processes.push(upstreams.process);
    const configMap = await createConfigMapVolume({ 'config.toml': config(socketPath, upstreams.blue) }, podDir);
    const configFile = join(configMap.dir, 'config.toml');

    // Reloader first, like a native sidecar: it must wait for the socket, not crash.
    const reloader = startLogged('reloader', NODE, [CLI, 'reloader', '--watch', configMap.dir, '--file', 'config.toml', '--socket', socketPath, '--debounce-ms', '100']);
    processes.push(reloader);
    const proxy = startLogged('proxy', NODE, [CLI, 'serve', '--config', configFile]);
    processes.push(proxy);
    const ready = await proxy.waitForLog((l) => l.event === 'ready', EVENT_TIMEOUT_MS);
    const listener = String((ready.listeners as string[])[0]);
    const url = `http://${listener}/`;

    assert.equal(await probe(socketPath), 0, 'ctl status is ready once the proxy is up');
    assert.equal((await get(url, HOST)).body, 'blue');
    // The reloader finds the proxy already running the mounted config: nothing to reload.
    await reloader.waitForLog((l) => l.event === 'proxy_reachable' || l.event === 'reloader_started', EVENT_TIMEOUT_MS);

    const traffic = startTraffic(url, HOST);
    // A failed step before traffic.stop() must not leave the loops running: the run would never end.
    t.after(() => traffic.stop());
    await traffic.waitForBody('blue', EVENT_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 500)); // some traffic on the old config first
    const swapAt = Date.now();
    await configMap.swap({ 'config.toml': config(socketPath, upstreams.green) });
    await reloader.waitForLog((l) => l.event === 'reload' && l.result === 'ok', EVENT_TIMEOUT_MS);
    const reloadedAt = Date.now();
    await traffic.waitForBody('green', EVENT_TIMEOUT_MS);
    // Keep traffic going past a resync-sized quiet period would take 30 s; 1.5 s shows no reload storm.
    await new Promise((r) => setTimeout(r, 1_500));
    const outcomes = await traffic.stop();

    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(failed, [], `every request during the swap succeeds (${outcomes.length} sent)`);
    assert.deepEqual(bodiesAround(outcomes, swapAt, reloadedAt), { before: ['blue'], after: ['green'] }, 'traffic switches once the reload is done');
    assert.equal(proxy.logs.filter((l) => l.event === 'reload').length, 1, 'exactly one reload for one ConfigMap change');
    assert.equal(reloader.logs.filter((l) => l.event === 'reload').length, 1);

    // Drain: an in-flight request finishes while the probe already says "not ready".
    const slow = get(`${url}slow?ms=2000`, HOST);
    await new Promise((r) => setTimeout(r, 300));
    proxy.child.kill('SIGTERM');
    await proxy.waitForLog((l) => l.event === 'draining', EVENT_TIMEOUT_MS);
    assert.notEqual(await probe(socketPath), 0, 'ctl status fails while draining, so readiness takes the pod out');
    const liveness = await run(NODE, [CLI, 'ctl', '--socket', socketPath, 'show', 'proc'], { allowFailure: true, timeoutMs: 10_000 });
    assert.equal(liveness.code, 0, `the chart's liveness command still passes while draining: ${liveness.stdout}${liveness.stderr}`);
    const inFlight = await slow;
    assert.equal(inFlight.status, 200, `the in-flight request completes during the drain: ${JSON.stringify(inFlight)}`);
    assert.equal(inFlight.body, 'green');
    const exit = await proxy.exited;
    assert.equal(exit.code, 0, `the proxy exits cleanly after draining\n${proxy.tail()}`);
  });
});
