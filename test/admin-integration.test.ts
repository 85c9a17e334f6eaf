// The admin socket of the real `reverse-proxy serve` binary: seed 000 replies, the master CLI
// over real master and worker processes, socket life-cycle and hostile input.
import assert from 'node:assert/strict';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exchange, tempDir } from './admin-fixture.ts';
import { preamble, runCli, startProxy } from './helpers/proxy-process.ts';

const SITE = '[[sites]]\nhost = "a.test"\nupstream = "http://127.0.0.1:9"\n\n';
const STATUS = /^\{"status":"ok","uptime_secs":\d+,"sites":1\}\n$/;

describe('admin socket of the real binary', () => {
  test('seed 000 replies byte for byte, including a reload that fails and one with a warning', async (t) => {
    const proxy = await startProxy({ t, config: SITE, workers: 2 });
    assert.match(await exchange(proxy.socketPath, 'status\n'), STATUS);
    assert.equal(await exchange(proxy.socketPath, 'reload\n'), '{"status":"ok"}\n');
    assert.equal(await exchange(proxy.socketPath, 'nope\n'), '{"status":"error","message":"unknown command: nope"}\n');
    assert.equal(await exchange(proxy.socketPath, '\n'), '{"status":"error","message":"invalid input"}\n');
    assert.equal(await exchange(proxy.socketPath, Buffer.from([0xff, 0x00, 0x0a])), '{"status":"error","message":"invalid input"}\n');

    await proxy.writeConfig('[[sites]]\nhost = "a.test"\nupstream = "not a url"\n');
    const failed = JSON.parse(await exchange(proxy.socketPath, 'reload\n')) as { status: string; message: string };
    assert.equal(failed.status, 'error');
    assert.match(failed.message, /config\.toml:\d+: sites\[0\]\.upstream\[0\]: "not a url" is not a URL/);
    assert.doesNotMatch(failed.message, /at .*\.ts:\d+/, 'no stack trace');

    await proxy.writeConfig(SITE.replace('a.test', 'b.test'));
    assert.equal(await exchange(proxy.socketPath, 'reload\n'), '{"status":"ok"}\n');

    // A second listener is a static change: applied on restart, reported as a warning now.
    await proxy.writeConfig(`[[listeners]]\naddress = "127.0.0.1"\nport = 0\n\n${SITE}`);
    const warned = JSON.parse(await exchange(proxy.socketPath, 'reload\n')) as { status: string; warnings: string[] };
    assert.equal(warned.status, 'ok', JSON.stringify(warned));
    assert.ok(warned.warnings.some((w) => w.includes('listeners')), JSON.stringify(warned));
  });

  test('show proc lists exactly the live master and worker PIDs; @N and @!PID reach them', async (t) => {
    const proxy = await startProxy({ t, config: SITE, workers: 2 });
    const table = await exchange(proxy.socketPath, 'show proc\n');
    const rows = table.split('\n').slice(1, -1).map((line) => line.split(/ +/));
    assert.deepEqual(rows.map((r) => [r[1], r[2]]), [['master', '0'], ['worker', '1'], ['worker', '2']]);
    assert.equal(Number(rows[0]![0]), proxy.pid);
    for (const row of rows) assert.doesNotThrow(() => process.kill(Number(row[0]), 0), `pid ${row[0]} exists`);

    const workerPid = rows[2]![0]!;
    assert.match(await exchange(proxy.socketPath, `@!${workerPid} show info\n`), /^Relative_pid: 2$/m);
    assert.equal(await exchange(proxy.socketPath, '@!999999 status\n'), '{"status":"error","message":"no such process: @!999999"}\n');

    assert.equal(await exchange(proxy.socketPath, 'reload\n'), '{"status":"ok"}\n');
    const master = JSON.parse(await exchange(proxy.socketPath, 'show info json\n')) as { generation: number; config_sha256: string };
    const worker = JSON.parse(await exchange(proxy.socketPath, '@1 show info json\n')) as { generation: number; process_type: string };
    assert.equal(worker.process_type, 'worker');
    assert.equal(worker.generation, master.generation, 'the worker runs the generation the master reports');
    assert.match(master.config_sha256, /^[0-9a-f]{64}$/);
    assert.match(await exchange(proxy.socketPath, '@1 show sites\n'), /a\.test/);
    assert.equal(
      await exchange(proxy.socketPath, 'prompt\n@1\nstatus\nquit\n', { keepOpen: true }).then((r) => r.replace(/"uptime_secs":\d+/, '"uptime_secs":N')),
      'master> 1> {"status":"ok","uptime_secs":N,"sites":1}\n1> ',
    );
  });

  test('levels of extra sockets, and the socket mode from the config', async (t) => {
    const extra = (dir: string) =>
      `admin_socket_mode = "0600"\n\n[[admin_sockets]]\npath = "${join(dir, 'user.sock')}"\nlevel = "user"\nmode = "0660"\n\n[[admin_sockets]]\npath = "${join(dir, 'operator.sock')}"\nlevel = "operator"\n\n`;
    const { dir, remove } = await tempDir();
    t.after(remove);
    const withSockets = await startProxy({ t, raw: true, config: preamble(dir, 1).replace('[logging]', `${extra(dir)}[logging]`) + SITE });
    const main = join(dir, 'admin.sock');
    const user = join(dir, 'user.sock');
    const operator = join(dir, 'operator.sock');
    assert.equal((await lstat(main)).mode & 0o777, 0o600);
    assert.equal((await lstat(user)).mode & 0o777, 0o660);
    assert.equal(await exchange(user, 'reload\n'), '{"status":"error","message":"permission denied: \\"reload\\" needs level operator, this socket is level user"}\n');
    assert.match(await exchange(user, 'status\n'), STATUS);
    assert.equal(await exchange(operator, 'reload\n'), '{"status":"ok"}\n');
    assert.equal(await exchange(operator, 'restart\n'), '{"status":"error","message":"permission denied: \\"restart\\" needs level admin, this socket is level operator"}\n');
    assert.equal(
      await exchange(user, 'show cli sockets\n'),
      `# socket lvl mode\n${main} admin 0600\n${user} user 0660\n${operator} operator 0660\n`,
    );
  });

  test('a second instance on an active socket warns, runs without it, and leaves the first one working', async (t) => {
    const first = await startProxy({ t, config: SITE });
    const inode = (await lstat(first.socketPath)).ino;
    const second = await startProxy({ t, raw: true, config: preamble(first.dir, 1) + SITE });
    await second.waitForLog((l) => l.event === 'admin_socket_in_use');
    assert.equal((await lstat(first.socketPath)).ino, inode);
    assert.match(await exchange(first.socketPath, 'show info json\n'), new RegExp(`"pid":${first.pid}`));
    await second.stop();
    assert.equal((await lstat(first.socketPath)).ino, inode, 'the second instance did not remove it on exit');
    assert.match(await exchange(first.socketPath, 'status\n'), STATUS);
  });

  test('ctl against the real binary: 0 ok, 1 error reply, 2 unreachable; the socket is removed on shutdown', async (t) => {
    const proxy = await startProxy({ t, config: SITE });
    const ok = await runCli(['ctl', '--socket', proxy.socketPath, 'status']);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, STATUS);
    assert.equal((await runCli(['ctl', '--socket', proxy.socketPath, 'bogus'])).code, 1);
    const stopped = await proxy.stop();
    assert.equal(stopped.code, 0);
    await assert.rejects(lstat(proxy.socketPath), { code: 'ENOENT' });
    const gone = await runCli(['ctl', '--socket', proxy.socketPath, 'status']);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, new RegExp(`cannot reach admin socket ${proxy.socketPath}`));
  });

  test('500 clients at once: each reads status or the connection-limit error, none is reset', async (t) => {
    const proxy = await startProxy({ t, config: SITE });
    const outcomes = await Promise.allSettled(Array.from({ length: 500 }, () => exchange(proxy.socketPath, 'status\n')));
    const tooMany = '{"status":"error","message":"too many admin connections (limit 256); try again"}\n';
    let ok = 0;
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'fulfilled', `a client was reset: ${outcome.status === 'rejected' ? String(outcome.reason) : ''}`);
      if (STATUS.test(outcome.value)) ok++;
      else assert.equal(outcome.value, tooMany);
    }
    assert.ok(ok >= 256, `at least the limit's worth of clients were served (${ok})`);
  });

  test('random binary input never crashes the proxy', async (t) => {
    const proxy = await startProxy({ t, config: SITE, workers: 1 });
    let seed = 42;
    const byte = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, () => exchange(proxy.socketPath, Buffer.from(Array.from({ length: 1 + (byte() % 200) }, byte))).catch(() => '')),
      );
    }
    assert.match(await exchange(proxy.socketPath, 'status\n'), STATUS);
    assert.equal(proxy.child.exitCode, null);
  });
});
