// A config path that is not a regular file never wedges the proxy (issue 12 item 2): a FIFO,
// /dev/zero, a socket or a directory is refused at once, naming what the path is, by `check`,
// by `serve` at start-up and by `reload` under traffic; a later reload of a restored file works;
// shutdown never waits behind a reload, and a second SIGINT exits at once.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, rename, symlink, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { SHUTDOWN_GRACE_MS } from '../src/runtime/deadlines.ts';
import { failures, runLoad } from './helpers/load.ts';
import { childPids } from './helpers/proc.ts';
import { preamble, runCli, startProxy } from './helpers/proxy-process.ts';
import { startUpstream } from './helpers/upstream.ts';

/** Not a speed requirement: what a loaded 2-core machine adds to "at once". */
const AT_ONCE_MS = 3_000;
/** What the test adds to a measured exit (signal delivery, late timers); see runtime-deadlines. */
const MEASUREMENT_SLACK_MS = 1_000;

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The four kinds of path, each made at `path`; the message names what it is. */
const NOT_REGULAR: readonly { kind: string; make(path: string): Promise<unknown>; says: RegExp }[] = [
  { kind: 'FIFO', make: async (path) => execFileSync('mkfifo', [path]), says: /is a FIFO \(named pipe\), not a regular file/ },
  { kind: '/dev/zero', make: (path) => symlink('/dev/zero', path), says: /is a character device, not a regular file/ },
  { kind: 'directory', make: (path) => mkdir(path), says: /is a directory, not a regular file/ },
  {
    kind: 'socket',
    make: (path) => new Promise<void>((resolve) => createServer().listen(path, () => resolve()).unref()),
    says: /is a socket, not a regular file/,
  },
];

describe('a config path that is not a regular file', () => {
  test('check and serve refuse each kind at once, naming it', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-notfile-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    for (const { kind, make, says } of NOT_REGULAR) {
      const path = join(dir, `${kind.replaceAll('/', '_')}.toml`);
      await make(path);
      for (const command of ['check', 'serve']) {
        const started = performance.now();
        const result = await runCli([command, '--config', path]);
        assert.equal(result.code, 1, `${command} on a ${kind}: ${result.stderr}`);
        assert.match(result.stderr, says, `${command} on a ${kind}`);
        assert.ok(performance.now() - started < AT_ONCE_MS + 2_000, `${command} on a ${kind} answered without waiting for a writer`);
      }
    }
  });

  test('reload under traffic: each kind fails fast with its name, traffic is unaffected, the restored file reloads', async (t) => {
    const app = await startUpstream();
    t.after(() => app.close());
    const proxy = await startProxy({ t, config: `[[sites]]\ndefault = true\nupstream = "${app.url}"\n` });
    const good = preamble(proxy.dir, 1) + `[[sites]]\ndefault = true\nupstream = "${app.url}"\n`;
    let done: () => void = () => undefined;
    const traffic = runLoad({ url: proxy.url, host: 'app.test', until: new Promise<void>((resolve) => (done = resolve)) });
    for (const { kind, make, says } of NOT_REGULAR) {
      await rm(proxy.configPath, { recursive: true, force: true });
      await make(proxy.configPath);
      const started = performance.now();
      const reply = JSON.parse(await proxy.admin('reload')) as { status: string; message: string };
      assert.equal(reply.status, 'error', `reload of a ${kind}`);
      assert.match(reply.message, says);
      assert.ok(performance.now() - started < AT_ONCE_MS, `reload of a ${kind} answered at once`);
    }
    await rm(proxy.configPath, { recursive: true, force: true });
    await writeFile(`${proxy.configPath}.tmp`, good);
    await rename(`${proxy.configPath}.tmp`, proxy.configPath);
    await sleep(50);
    assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n', 'the next reload of a real file works');
    done();
    const result = await traffic;
    assert.equal(failures(result), 0, `traffic during the refused reloads: ${JSON.stringify(result)}`);
    assert.ok(result.ok > 0);
  });

  test('shutdown does not wait behind a reload in progress: SIGTERM exits within deadline + grace', async (t) => {
    const app = await startUpstream();
    t.after(() => app.close());
    const proxy = await startProxy({ t, shutdownTimeoutSecs: 2, config: `[[sites]]\ndefault = true\nupstream = "${app.url}"\n` });
    const [worker] = childPids(proxy.pid) as [number];
    t.after(() => killQuietly(worker));
    // A worker that does not answer holds the reload until APPLY_TIMEOUT_MS (10 s).
    process.kill(worker, 'SIGSTOP');
    const reload = proxy.admin('reload').catch((err: Error) => err.message);
    await proxy.waitForLog((l) => l.event === 'reload_start');
    const signalled = performance.now();
    proxy.signal('SIGTERM');
    const exit = await Promise.race([proxy.exited, sleep(2_000 + SHUTDOWN_GRACE_MS + MEASUREMENT_SLACK_MS).then(() => 'still running')]);
    assert.notEqual(exit, 'still running', `master still running ${Math.round(performance.now() - signalled)} ms after SIGTERM behind a stuck reload`);
    await proxy.waitForLog((l) => l.event === 'worker_killed');
    await reload;
  });

  test('a second SIGINT exits at once, whatever is still draining', async (t) => {
    const app = await startUpstream((req, res) => void (req.url === '/hang' || res.end('ok')));
    t.after(() => app.close());
    const proxy = await startProxy({ t, shutdownTimeoutSecs: 30, config: `[[sites]]\ndefault = true\nupstream = "${app.url}"\n` });
    const workers = childPids(proxy.pid);
    void request(`${proxy.url}/hang`).then((res) => res.body.dump(), () => undefined);
    while (app.requests.length === 0) await sleep(10);
    proxy.signal('SIGINT');
    await proxy.waitForLog((l) => l.event === 'draining' && l.component === 'master');
    const second = performance.now();
    proxy.signal('SIGINT');
    assert.deepEqual(await proxy.exited, { code: 1, signal: null });
    assert.ok(performance.now() - second < AT_ONCE_MS, 'the second SIGINT ended the master at once');
    const forced = await proxy.waitForLog((l) => l.event === 'shutdown_forced');
    assert.deepEqual(forced.killed_pids, workers, 'and took its workers with it');
  });
});
