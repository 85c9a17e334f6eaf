// MountWatcher on real directories: kubelet's `..data` swap (emulated exactly), plain writes,
// debouncing of bursts, and recovery when the watched directory is replaced.
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { createLogger } from '../src/log.ts';
import { ReloaderMetrics } from '../src/reloader/metrics.ts';
import { DEBOUNCE_MAX_WAIT_FACTOR, MountWatcher } from '../src/reloader/mount-watcher.ts';
import { createConfigMapVolume } from './helpers/kubelet.ts';

// The product's default quiet time: shorter ones split one kubelet swap into two callbacks when a
// loaded machine stalls the test's own event loop between the swap's steps.
const DEBOUNCE_MS = 250;
/** Long enough for any debounced callback of a finished burst to have fired. */
const SETTLE_MS = DEBOUNCE_MS * DEBOUNCE_MAX_WAIT_FACTOR + 300;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reloader-watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function watching(t: TestContext, dirs: string[]) {
  const calls: string[] = [];
  const metrics = new ReloaderMetrics();
  const watcher = new MountWatcher({ dirs, debounceMs: DEBOUNCE_MS, logger: createLogger({ level: 'silent', component: 'reloader' }), metrics, onChange: (reason) => calls.push(reason) });
  await watcher.start();
  t.after(() => watcher.close());
  return { calls, metrics, watcher };
}

test('the kubelet emulation lays out and swaps a volume like AtomicWriter', async (t) => {
  const volume = await createConfigMapVolume({ 'config.toml': 'one', 'extra.txt': 'x' }, await tempDir(t));
  const first = await readlink(join(volume.dir, '..data'));
  assert.match(first, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9}$/);
  assert.equal(await readlink(join(volume.dir, 'config.toml')), '..data/config.toml');

  await volume.swap({ 'config.toml': 'two' });
  const second = await readlink(join(volume.dir, '..data'));
  assert.notEqual(second, first);
  assert.equal(await readFile(join(volume.dir, 'config.toml'), 'utf8'), 'two');
  assert.deepEqual((await readdir(volume.dir)).sort(), [second, '..data', 'config.toml'].sort());
  assert.ok((await lstat(join(volume.dir, 'config.toml'))).isSymbolicLink());
});

test('one kubelet swap gives exactly one callback', async (t) => {
  const volume = await createConfigMapVolume({ 'config.toml': 'one' }, await tempDir(t));
  const { calls } = await watching(t, [volume.dir]);
  await volume.swap({ 'config.toml': 'two' });
  await sleep(SETTLE_MS);
  assert.deepEqual(calls, ['watch']);
  await volume.swap({ 'config.toml': 'three' });
  await sleep(SETTLE_MS);
  assert.deepEqual(calls, ['watch', 'watch'], 'the watch survives the removal of the first payload dir');
});

test('a burst of ten swaps is debounced: at most one callback per longest wait, plus the last', async (t) => {
  const volume = await createConfigMapVolume({ 'config.toml': 'v0' }, await tempDir(t));
  const { calls } = await watching(t, [volume.dir]);
  const started = performance.now();
  for (let i = 1; i <= 10; i++) await volume.swap({ 'config.toml': `v${i}` });
  const burstMs = performance.now() - started;
  await sleep(SETTLE_MS);
  // A burst that outlasts the longest wait fires once per wait (a loaded machine stretches the ten
  // swaps); a quick one, the usual case, gives one or two callbacks.
  const allowed = Math.max(2, Math.ceil(burstMs / (DEBOUNCE_MS * DEBOUNCE_MAX_WAIT_FACTOR)) + 1);
  assert.ok(calls.length >= 1 && calls.length <= allowed, `callbacks: ${calls.length} for a burst of ${Math.round(burstMs)} ms (allowed ${allowed})`);
});

test('plain in-place writes and editor-style renames of a regular file are seen', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'config.toml'), 'one');
  const { calls } = await watching(t, [dir]);
  await writeFile(join(dir, 'config.toml'), 'two');
  await sleep(SETTLE_MS);
  assert.equal(calls.length, 1);
  await writeFile(join(dir, 'config.toml.swp'), 'three');
  await rename(join(dir, 'config.toml.swp'), join(dir, 'config.toml'));
  await sleep(SETTLE_MS);
  assert.equal(calls.length, 2);
});

test('every --watch dir is watched', async (t) => {
  const parent = await tempDir(t);
  const a = await createConfigMapVolume({ 'config.toml': 'a' }, parent);
  const b = await createConfigMapVolume({ 'tls.crt': 'b' }, parent);
  const { calls } = await watching(t, [a.dir, b.dir]);
  await b.swap({ 'tls.crt': 'b2' });
  await sleep(SETTLE_MS);
  assert.equal(calls.length, 1);
});

test('a watched dir replaced underneath is noticed on recheck and watched again', async (t) => {
  const parent = await tempDir(t);
  const dir = join(parent, 'mount');
  await mkdir(dir);
  await writeFile(join(dir, 'config.toml'), 'one');
  const { calls, metrics, watcher } = await watching(t, [dir]);

  await rm(dir, { recursive: true });
  await mkdir(dir);
  await writeFile(join(dir, 'config.toml'), 'two');
  await sleep(SETTLE_MS);
  calls.length = 0;
  await watcher.recheck();
  assert.deepEqual(calls, ['watch-dir-replaced']);
  assert.equal(metrics.watcherRestarts, 1);
  assert.equal(watcher.active, true);

  await writeFile(join(dir, 'config.toml'), 'three');
  await sleep(SETTLE_MS);
  assert.deepEqual(calls, ['watch-dir-replaced', 'watch'], 'changes in the new dir are seen');
});

test('after close, changes call back nothing', async (t) => {
  const volume = await createConfigMapVolume({ 'config.toml': 'one' }, await tempDir(t));
  const { calls, watcher } = await watching(t, [volume.dir]);
  await watcher.close();
  assert.equal(watcher.active, false);
  await volume.swap({ 'config.toml': 'two' });
  await sleep(SETTLE_MS);
  assert.deepEqual(calls, []);
});
