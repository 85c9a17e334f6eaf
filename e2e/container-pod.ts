// Stage 2: the chart's pod in real containers. Build the image offline, render the chart with
// `helm template`, run the Deployment with `podman kube play`, then do what a cluster does to it:
// probe readiness with `reverse-proxy ctl status`, send traffic on loopback, swap the ConfigMap
// kubelet-style on the host side of its mount, and stop the pod with a drain.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createConfigMapVolume } from '../test/helpers/kubelet.ts';
import { POD, type PodOptions, RELEASE, container, renderConfigToml, renderPodManifest } from './container/pod-manifest.ts';
import { ensureBaseImage } from './image/base-image.ts';
import { buildProxyImage } from './image/proxy-image.ts';
import { ECHO_UPSTREAM_JS } from './lib/echo-upstream.ts';
import { available } from './lib/exec.ts';
import { lowUlimitsEnv, podman } from './lib/podman.ts';
import { bodiesAround, get, startTraffic } from './lib/traffic.ts';

const HOST = 'shop.example.test';
const SHUTDOWN_TIMEOUT_SECS = 15;
/** reloader.healthPort's default in the chart's values.yaml. */
const RELOADER_HEALTH_PORT = 9901;
const log = (line: string) => process.stderr.write(`# e2e stage 2: ${line}\n`);

const podOptions = (image: string, upstreamPort: number): PodOptions => ({
  image,
  appScript: ECHO_UPSTREAM_JS,
  upstreams: 'blue=8081,green=8082',
  sites: [{ host: HOST, upstream: `http://127.0.0.1:${upstreamPort}` }],
  shutdownTimeoutSecs: SHUTDOWN_TIMEOUT_SECS,
});

/** Why podman cannot run containers here at all, or undefined when it can. */
async function whyPodmanCannotRun(): Promise<string | undefined> {
  if (!(await available('podman'))) return 'podman is not installed (run e2e/install-deps.sh as root)';
  if (!(await available('debootstrap', ['--version']))) return 'debootstrap is not installed (run e2e/install-deps.sh as root)';
  const info = await podman(['info', '--format', '{{.Host.OCIRuntime.Name}}'], { allowFailure: true, timeoutMs: 30_000 });
  if (info.code !== 0) return `podman cannot start: ${info.stderr.trim().split('\n').at(-1)}`;
  return undefined;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** What the chart's reloader liveness probe tolerates before a restart: failureThreshold 3 × periodSeconds 10. */
const RELOADER_LIVENESS_WINDOW_MS = 30_000;

async function waitUntil<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The readiness probe as kubelet runs it in the proxy container. */
async function probe(): Promise<number> {
  return (await podman(['exec', container('proxy'), 'reverse-proxy', 'ctl', 'status'], { allowFailure: true, timeoutMs: 15_000 })).code;
}

/** The proxy container's JSON log events (podman logs interleaves stderr; non-JSON lines are skipped). */
async function proxyEvents(): Promise<Record<string, unknown>[]> {
  const { stdout, stderr } = await podman(['logs', container('proxy')], { allowFailure: true });
  return `${stdout}\n${stderr}`
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The last lines of every container's output, for a failure message. */
async function containerLogs(): Promise<string> {
  const parts: string[] = [];
  for (const name of ['proxy', 'reloader', 'app'] as const) {
    const { stdout, stderr } = await podman(['logs', '--tail', '15', container(name)], { allowFailure: true });
    parts.push(`--- ${name}\n${stdout}${stderr}`);
  }
  return parts.join('\n');
}

const skipReason = await whyPodmanCannotRun();
if (skipReason) log(`SKIPPED: ${skipReason}`);

describe('e2e stage 2: the chart\'s pod under podman kube play', { skip: skipReason }, () => {
  let work = '';
  let manifestFile = '';
  after(async () => {
    if (manifestFile) await podman(['kube', 'play', '--down', manifestFile], { allowFailure: true, timeoutMs: 120_000 });
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('ready via ctl status, one reload on a kubelet-style swap, new routing, clean drain on stop', { timeout: 1_500_000 }, async (t) => {
    const image = await buildProxyImage(await ensureBaseImage(log), log);
    work = await mkdtemp('/var/tmp/rp-e2e-pod-');
    const env = await lowUlimitsEnv(work);

    const blue = podOptions(image, 8081);
    const green = podOptions(image, 8082);
    const configMap = await createConfigMapVolume({ 'config.toml': await renderConfigToml(blue) }, work);
    // The containers run as UID 10001; kubelet's ConfigMap directories are world-readable too.
    await chmod(configMap.dir, 0o755);
    const hostPort = await freeLoopbackPort();
    manifestFile = join(work, 'pod.yaml');
    await writeFile(manifestFile, await renderPodManifest(blue, configMap.dir, hostPort));

    // A pod left by an interrupted earlier run would hold the name.
    await podman(['pod', 'rm', '--force', POD], { allowFailure: true, timeoutMs: 120_000 });
    log(`podman kube play (release ${RELEASE}, proxy on 127.0.0.1:${hostPort})`);
    await podman(['kube', 'play', manifestFile], { env, timeoutMs: 180_000 });

    await waitUntil('the readiness probe passes', async () => ((await probe()) === 0 ? true : undefined), 60_000);
    const url = `http://127.0.0.1:${hostPort}/`;
    await waitUntil('blue answers through the published port', async () => ((await get(url, HOST)).body === 'blue' ? true : undefined), 30_000);
    const socat = await podman(['exec', '-i', container('reloader'), 'socat', '-', 'UNIX-CONNECT:/run/reverse-proxy/admin.sock'], { input: 'status\n' });
    assert.match(socat.stdout, /^\{"status":"ok"/, 'the socat one-liner from the docs reaches the socket from the other container');

    // What the chart's securityContext and the reloader's liveness probe promise, in the real containers.
    assert.equal((await podman(['exec', container('proxy'), 'id', '-u'])).stdout.trim(), '10001', 'the proxy runs as UID 10001');
    const write = await podman(['exec', container('proxy'), 'touch', '/app/x'], { allowFailure: true });
    assert.notEqual(write.code, 0, 'the root filesystem is read-only');
    const healthz = `fetch('http://127.0.0.1:${RELOADER_HEALTH_PORT}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(2))`;
    // The proxy's readiness says nothing of when the reloader container has started listening:
    // kubelet gives it the liveness probe's failureThreshold × periodSeconds (3 × 10 s).
    const reloaderHealthy = async () => ((await podman(['exec', container('reloader'), 'node', '-e', healthz], { allowFailure: true })).code === 0 ? true : undefined);
    await waitUntil('the reloader answers /healthz', reloaderHealthy, RELOADER_LIVENESS_WINDOW_MS);

    const traffic = startTraffic(url, HOST);
    // A failed step before traffic.stop() must not leave the loops running: the run would never end.
    t.after(() => traffic.stop());
    await traffic.waitForBody('blue', 10_000);
    await new Promise((r) => setTimeout(r, 500)); // some traffic on the old config first
    log('swapping the ConfigMap directory kubelet-style');
    const greenConfig = await renderConfigToml(green);
    const swapAt = Date.now();
    await configMap.swap({ 'config.toml': greenConfig });
    const reload = await waitUntil('the proxy logs a reload', async () => (await proxyEvents()).find((e) => e.event === 'reload'), 30_000);
    const reloadedAt = Date.parse(String(reload.time));
    await traffic.waitForBody('green', 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const outcomes = await traffic.stop();

    assert.deepEqual(outcomes.filter((o) => o.status !== 200), [], `no failed request during the swap (${outcomes.length} sent)`);
    assert.deepEqual(bodiesAround(outcomes, swapAt, reloadedAt), { before: ['blue'], after: ['green'] }, 'traffic switches once the reload is done');
    const reloads = (await proxyEvents()).filter((e) => e.event === 'reload');
    assert.equal(reloads.length, 1, `exactly one reload: ${JSON.stringify(reloads)}`);
    assert.equal(reloads[0]?.result, 'ok');

    // Stop the pod the way a rollout does: SIGTERM (via tini) while a request is in flight.
    const slow = get(`${url}slow?ms=3000`, HOST, undefined, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    // What kubelet does: SIGTERM to each container's PID 1, wait up to the grace period, then
    // SIGKILL. The pod's network stays up until they have exited (`podman pod stop` would take the
    // infra container down with them), and `podman kill` sends exactly one signal (`podman stop`
    // of several containers of a pod was seen to deliver a second SIGTERM, which the proxy reads
    // as "stop now").
    log('SIGTERM to every container: the proxy drains');
    const names = (['proxy', 'reloader', 'app'] as const).map(container);
    await podman(['kill', '--signal', 'TERM', ...names]);
    const stopped = podman(['wait', ...names], { timeoutMs: (SHUTDOWN_TIMEOUT_SECS + 10) * 1000 }).catch(async (err: Error) => {
      await podman(['kill', '--signal', 'KILL', ...names], { allowFailure: true });
      throw err;
    });
    stopped.catch(() => {}); // awaited below; until then a timeout must not count as unhandled
    await waitUntil('the proxy logs draining', async () => ((await proxyEvents()).some((e) => e.event === 'draining') ? true : undefined), 20_000);
    assert.notEqual(await probe(), 0, 'ctl status fails while draining');
    const inFlight = await slow;
    if (inFlight.status !== 200) log(`in-flight request failed; container logs:\n${await containerLogs()}`);
    assert.deepEqual([inFlight.status, inFlight.body], [200, 'green'], `the in-flight request completes during the drain: ${JSON.stringify(inFlight)}`);
    await stopped;
    for (const name of ['proxy', 'reloader', 'app'] as const) {
      const { stdout } = await podman(['inspect', '--format', '{{.State.ExitCode}}', container(name)]);
      assert.equal(stdout.trim(), '0', `${name} exits 0 on SIGTERM (exit ${stdout.trim()})`);
    }
    assert.ok((await proxyEvents()).some((e) => e.event === 'shutdown'), 'the proxy logs a clean shutdown');
  });
});
