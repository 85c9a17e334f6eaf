// Reading a config file that is being written: a file is read once it is quiet, one that never
// holds still is refused with ERR_CONFIG_UNSTABLE, and the hash is of the bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONFIG_QUIET_MS, loadConfigFile, readStable, STABLE_READ_ATTEMPTS, STABLE_READ_RETRY_MS } from '../src/config/load.ts';
import { ConfigUnstableError } from '../src/errors.ts';
import { cgroupCpuLimit } from '../src/runtime/cpu-count.ts';

describe('loadConfigFile', () => {
  test('hashes exactly the bytes of the file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-load-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const text = '[[sites]]\nhost = "a.test"\nupstream = "http://127.0.0.1:1"\n';
    await writeFile(join(dir, 'c.toml'), text);
    const loaded = await loadConfigFile(join(dir, 'c.toml'));
    assert.equal(loaded.sha256, createHash('sha256').update(text).digest('hex'));
    assert.equal(loaded.config.sites[0]!.host![0], 'a.test');
  });

  test('a file modified a moment ago is read only once it is quiet, so a rewrite in place is not missed', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-load-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'c.toml');
    await writeFile(file, '# first version\n');
    const reading = readStable(file);
    // Still inside the quiet period of the first write: an editor writing in place again.
    await writeFile(file, '# second version, longer\n');
    assert.equal((await reading).toString(), '# second version, longer\n');
  });

  test('a file that never holds still is refused with ERR_CONFIG_UNSTABLE', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-load-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'busy.toml');
    await writeFile(file, '# being written\n');
    // An mtime just ahead of the clock looks like a write that is still going on, for longer
    // than all the attempts together take (and is within the clock-skew tolerance).
    const soon = new Date(Date.now() + STABLE_READ_ATTEMPTS * (CONFIG_QUIET_MS + STABLE_READ_RETRY_MS) + 500);
    await utimes(file, soon, soon);
    await assert.rejects(readStable(file), (err: unknown) => {
      assert.ok(err instanceof ConfigUnstableError);
      assert.equal(err.code, 'ERR_CONFIG_UNSTABLE');
      assert.match(err.message, /busy\.toml: config file changed during read/);
      return true;
    });
  });
});

describe('workers = "auto"', () => {
  test('reads the cgroup v2 and v1 CPU quota', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'rp-cgroup-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    assert.equal(cgroupCpuLimit(root), undefined, 'no cgroup files: no quota');
    await writeFile(join(root, 'cpu.max'), 'max 100000\n');
    assert.equal(cgroupCpuLimit(root), undefined, 'v2 "max": no quota');
    await writeFile(join(root, 'cpu.max'), '150000 100000\n');
    assert.equal(cgroupCpuLimit(root), 1.5);
    await rm(join(root, 'cpu.max'));
    await mkdir(join(root, 'cpu'));
    await writeFile(join(root, 'cpu', 'cpu.cfs_quota_us'), '200000\n');
    await writeFile(join(root, 'cpu', 'cpu.cfs_period_us'), '100000\n');
    assert.equal(cgroupCpuLimit(root), 2);
    await writeFile(join(root, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
    assert.equal(cgroupCpuLimit(root), undefined, 'v1 -1: no quota');
  });
});
