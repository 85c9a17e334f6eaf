// The Reconciler against a real Unix socket peer that speaks the admin protocol (`show info
// json`, `reload`) and really reads the mounted file, so each decision of the reconciler can be
// provoked precisely: a slow reload, a refused config, a proxy that is not up yet.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { createLogger } from '../src/log.ts';
import { ReloaderMetrics } from '../src/reloader/metrics.ts';
import { createProxyAdmin } from '../src/reloader/proxy-admin.ts';
import { Reconciler } from '../src/reloader/reconciler.ts';
import type { ReloadReport } from '../src/reloader/reload-report.ts';
import { createConfigMapVolume, type ConfigMapVolume } from './helpers/kubelet.ts';
import { until } from './helpers/until.ts';

/** How long these in-process waits may take before a test fails. */
const UNTIL_MS = 10_000;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const BROKEN = 'broken';

interface AdminPeer {
  socketPath: string;
  commands: string[];
  reloads: number;
  /** Most `reload` commands ever being answered at the same time. */
  maxConcurrentReloads: number;
  running: string;
  /** Delay before answering `reload` (to land a change while it runs). */
  reloadDelayMs: number;
  /** Answer ok to `reload` without loading anything (a proxy reading some other file). */
  ignoreReload: boolean;
  close(): Promise<void>;
  listen(): Promise<void>;
}

/** A stand-in proxy master: loads the file at start and on `reload`, refusing content "broken". */
async function startAdminPeer(t: TestContext, dir: string, configFile: string): Promise<AdminPeer> {
  let server: Server | undefined;
  let inFlight = 0;
  const peer: AdminPeer = {
    socketPath: join(dir, 'admin.sock'),
    commands: [],
    reloads: 0,
    maxConcurrentReloads: 0,
    running: sha(await readFile(configFile, 'utf8')),
    reloadDelayMs: 0,
    ignoreReload: false,
    async listen() {
      server = createServer({ allowHalfOpen: true }, (socket) => {
        let buffered = '';
        socket.on('data', async (chunk) => {
          buffered += chunk;
          if (!buffered.includes('\n')) return;
          const command = buffered.trim();
          peer.commands.push(command);
          if (command === 'show info json') {
            socket.end(`${JSON.stringify({ pid: process.pid, config_file: configFile, config_sha256: peer.running, generation: peer.reloads + 1, reloads: peer.reloads })}\n`);
          } else if (command === 'reload') {
            inFlight++;
            peer.maxConcurrentReloads = Math.max(peer.maxConcurrentReloads, inFlight);
            // Reads first, answers later: a swap during the delay is newer than what it loaded.
            const text = await readFile(configFile, 'utf8');
            await sleep(peer.reloadDelayMs);
            inFlight--;
            if (text === BROKEN) return void socket.end(`${JSON.stringify({ status: 'error', message: `${configFile}:1: not a valid config` })}\n`);
            if (!peer.ignoreReload) {
              peer.running = sha(text);
              peer.reloads++;
            }
            socket.end('{"status":"ok"}\n');
          } else {
            socket.end(`${JSON.stringify({ status: 'error', message: `unknown command: ${command}` })}\n`);
          }
        });
      });
      await new Promise<void>((resolve) => server!.listen(peer.socketPath, resolve));
    },
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
  t.after(() => peer.close());
  return peer;
}

interface Rig {
  volume: ConfigMapVolume;
  peer: AdminPeer;
  reconciler: Reconciler;
  reports: ReloadReport[];
  metrics: ReloaderMetrics;
  /** Triggers and waits until the reconciler is idle again. */
  settle(reason?: string): Promise<void>;
}

async function rig(t: TestContext, options: { retryFailedSecs?: number; listen?: boolean } = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'reloader-rec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const volume = await createConfigMapVolume({ 'config.toml': 'one' }, dir);
  const configFile = join(volume.dir, 'config.toml');
  const peer = await startAdminPeer(t, dir, configFile);
  if (options.listen !== false) await peer.listen();
  const reports: ReloadReport[] = [];
  const metrics = new ReloaderMetrics();
  const reconciler = new Reconciler({
    configFile,
    proxy: createProxyAdmin(peer.socketPath, 10_000),
    logger: createLogger({ level: 'silent', component: 'reloader' }),
    metrics,
    retryFailedSecs: options.retryFailedSecs ?? 0,
    retryFailedMaxSecs: 600,
    socketRetryMaxMs: 100,
    onReload: (report) => reports.push(report),
    onRefused: () => undefined, // the peer's socket is this test's own
  });
  t.after(() => reconciler.stop());
  const settle = async (reason = 'test') => {
    reconciler.trigger(reason);
    await reconciler.idle();
  };
  return { volume, peer, reconciler, reports, metrics, settle };
}

test('in sync at start: compares, sends no reload', async (t) => {
  const { peer, reports, metrics, settle } = await rig(t);
  await settle('startup');
  assert.deepEqual(peer.commands, ['show info json']);
  assert.equal(reports.length, 0);
  assert.equal(metrics.inSync, true);
});

test('a swap gives exactly one reload, confirmed by the hash the proxy reports', async (t) => {
  const { volume, peer, reports, settle } = await rig(t);
  await volume.swap({ 'config.toml': 'two' });
  await settle();
  await settle('resync');
  assert.equal(peer.reloads, 1);
  assert.deepEqual(peer.commands, ['show info json', 'reload', 'show info json', 'show info json']);
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.result, 'ok');
  assert.equal(reports[0]!.sha256, sha('two'));
  assert.equal(reports[0]!.previousSha256, sha('one'));
});

test('a refused config is reported once and not sent again until the file changes', async (t) => {
  const { volume, peer, reports, metrics, settle } = await rig(t);
  await volume.swap({ 'config.toml': BROKEN });
  for (let i = 0; i < 5; i++) await settle('resync');
  assert.equal(peer.commands.filter((c) => c === 'reload').length, 1);
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.result, 'failed');
  assert.match(reports[0]!.message!, /not a valid config/);
  assert.deepEqual(metrics.reloads, { ok: 0, failed: 1 });

  await volume.swap({ 'config.toml': 'three' });
  await settle();
  assert.equal(peer.running, sha('three'));
  assert.deepEqual(reports.map((r) => r.result), ['failed', 'ok']);
});

test('after a refused config, reverting to the running one is recognised, and the refused one gets one new attempt if it comes back', async (t) => {
  // prometheus-operator#4708: a reloader that got stuck after an invalid config was reverted.
  const { volume, peer, reports, metrics, settle } = await rig(t);
  await volume.swap({ 'config.toml': BROKEN });
  await settle();
  await volume.swap({ 'config.toml': 'one' });
  await settle();
  assert.equal(metrics.inSync, true);
  assert.equal(peer.commands.filter((c) => c === 'reload').length, 1, 'nothing to reload: the proxy still runs "one"');

  await volume.swap({ 'config.toml': BROKEN });
  await settle();
  await settle('resync');
  assert.equal(peer.commands.filter((c) => c === 'reload').length, 2);
  assert.deepEqual(reports.map((r) => r.result), ['failed', 'failed']);
});

test('--retry-failed-secs retries a refused config with backoff, not in a loop', async (t) => {
  const { volume, peer, reconciler } = await rig(t, { retryFailedSecs: 1 });
  await volume.swap({ 'config.toml': BROKEN });
  reconciler.trigger('watch');
  await until(() => peer.commands.filter((c) => c === 'reload').length >= 2, 'the retry after 1 s', UNTIL_MS);
  // The next retry waits 2 s: hammering resyncs meanwhile sends nothing.
  for (let i = 0; i < 10; i++) {
    reconciler.trigger('resync');
    await reconciler.idle();
  }
  assert.equal(peer.commands.filter((c) => c === 'reload').length, 2);
});

test('a change landing while a reload runs is not lost, and only one reload is in flight', async (t) => {
  const { volume, peer, reconciler, reports } = await rig(t);
  peer.reloadDelayMs = 300;
  await volume.swap({ 'config.toml': 'two' });
  reconciler.trigger('watch');
  await until(() => peer.commands.includes('reload'), 'the first reload', UNTIL_MS);
  await volume.swap({ 'config.toml': 'three' });
  for (let i = 0; i < 5; i++) reconciler.trigger('watch');
  await until(() => reports.length > 0, 'a report', UNTIL_MS);
  await reconciler.idle();
  assert.equal(peer.running, sha('three'));
  assert.equal(peer.reloads, 2);
  assert.equal(peer.maxConcurrentReloads, 1);
  assert.equal(reports.at(-1)!.sha256, sha('three'));
});

test('waits for a proxy that is not up yet, then brings it to the mounted config', async (t) => {
  const { volume, peer, reconciler, metrics, reports } = await rig(t, { listen: false });
  await volume.swap({ 'config.toml': 'two' });
  reconciler.trigger('startup');
  await until(() => metrics.socketErrors >= 3, 'a few failed attempts', UNTIL_MS);
  await peer.listen();
  await until(() => reports.length > 0, 'the reload once the socket is up', UNTIL_MS);
  assert.equal(peer.running, sha('two'));
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.result, 'ok');
});

test('a proxy that answers ok but runs another file is reported as failed, once', async (t) => {
  const { volume, peer, reports, settle } = await rig(t);
  peer.ignoreReload = true;
  await volume.swap({ 'config.toml': 'two' });
  for (let i = 0; i < 3; i++) await settle('resync');
  assert.equal(peer.commands.filter((c) => c === 'reload').length, 1);
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.result, 'failed');
  assert.match(reports[0]!.message!, /answered ok but runs config/);
});

test('an unreadable config file is not sent to the proxy', async (t) => {
  const { volume, peer, metrics, settle } = await rig(t);
  await rm(join(volume.dir, 'config.toml'));
  await settle();
  assert.deepEqual(peer.commands, []);
  assert.equal(metrics.configReadErrors, 1);
});

test('metrics print seconds without float noise', () => {
  const metrics = new ReloaderMetrics();
  metrics.recordReload('ok', 12.345678999, 1_764_620_000_123);
  assert.match(metrics.render(), /^reverse_proxy_reloader_last_reload_duration_seconds 0\.012346$/m);
  assert.match(metrics.render(), /^reverse_proxy_reloader_last_reload_timestamp_seconds 1764620000\.123$/m);
  metrics.recordReload('ok', 0.1 * 1000 + 0.2 * 1000 + 1e-13); // 300.0000000000001 ms
  assert.match(metrics.render(), /^reverse_proxy_reloader_last_reload_duration_seconds 0\.3$/m);
});
