// Master and workers as real processes: show proc tells the truth, a killed worker comes back
// in its slot, and neither reloads nor a rolling restart fail a request.
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { failures, runLoad } from './helpers/load.ts';
import { alive, showProc, startProxy, RESTART_REPLY_MS, site } from './helpers/proxy-process.ts';
import { echo, startUpstream } from './helpers/upstream.ts';
import { SMALL_YOUNG_GENERATION_FLAG, WORKER_GC_FLAGS } from '../src/runtime/worker-flags.ts';

const PUBLISHED_ENTRY = join(import.meta.dirname, '..', 'bin', 'reverse-proxy.js');


describe('workers', () => {
  test('show proc lists the master and each worker with PIDs that exist', async (t) => {
    const up = await startUpstream();
    t.after(() => up.close());
    const proxy = await startProxy({ t, config: site('app.test', up.url), workers: 2 });
    const rows = await showProc(proxy);
    assert.deepEqual(rows.map((r) => [r.type, r.relativePid]), [['master', 0], ['worker', 1], ['worker', 2]]);
    assert.equal(rows[0]!.pid, proxy.pid);
    for (const row of rows) assert.ok(alive(row.pid), `pid ${row.pid} exists`);
    assert.equal(new Set(rows.map((r) => r.pid)).size, 3);
  });

  test("workers get their own GC flags (src/runtime/worker-flags.ts), not the young generation the published entry gives the master", async (t) => {
    const up = await startUpstream();
    t.after(() => up.close());
    // Through the shebang, with this Node first on PATH, as the image and `npm install -g` run it.
    const env = { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
    const proxy = await startProxy({ t, config: site('app.test', up.url), workers: 2, entry: PUBLISHED_ENTRY, env });
    const commandLine = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    const rows = await showProc(proxy);
    assert.deepEqual(rows.map((r) => r.type), ['master', 'worker', 'worker']);
    for (const row of rows) {
      const args = await commandLine(row.pid);
      const flags = args.slice(1, args.findIndex((a) => a.endsWith('.js') || a.endsWith('.ts')));
      if (row.type === 'master') assert.deepEqual(flags, [SMALL_YOUNG_GENERATION_FLAG], args.join(' '));
      else assert.deepEqual(flags, WORKER_GC_FLAGS, `worker ${row.pid}: ${args.join(' ')}`);
    }
  });

  test('@1 show info reports the same generation and hash as the master after a reload', async (t) => {
    const up = await startUpstream();
    t.after(() => up.close());
    const proxy = await startProxy({ t, config: site('app.test', up.url), workers: 2 });
    await proxy.writeConfig(site('app.test', up.url) + site('b.test', up.url));
    assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n');
    const master = JSON.parse(await proxy.admin('show info json'));
    for (const target of ['@1', '@2']) {
      const worker = JSON.parse(await proxy.admin(`${target} show info json`));
      assert.equal(worker.process_type, 'worker');
      assert.equal(worker.generation, 2);
      assert.equal(worker.generation, master.generation);
      assert.equal(worker.config_sha256, master.config_sha256);
      assert.equal(worker.sites, 2);
    }
  });

  test('kill -9 of a worker: respawned in the same slot, and traffic is served again', async (t) => {
    const up = await startUpstream();
    t.after(() => up.close());
    const proxy = await startProxy({ t, config: site('app.test', up.url), workers: 2 });
    const before = await showProc(proxy);
    const victim = before.find((r) => r.relativePid === 1)!;

    process.kill(victim.pid, 'SIGKILL');
    const respawn = await proxy.waitForLog((l) => l.event === 'worker_respawn' && l.relative_pid === 1);
    await proxy.waitForLog((l) => l.event === 'worker_exit' && l.pid === victim.pid);
    let after = await showProc(proxy);
    for (let i = 0; i < 50 && after.find((r) => r.relativePid === 1)!.pid === 0; i++) {
      await sleep(50);
      after = await showProc(proxy);
    }
    const slot1 = after.find((r) => r.relativePid === 1)!;
    assert.equal(slot1.pid, respawn.pid);
    assert.notEqual(slot1.pid, victim.pid);
    assert.ok(alive(slot1.pid));
    assert.equal(after.find((r) => r.relativePid === 2)!.pid, before.find((r) => r.relativePid === 2)!.pid, 'the other worker was untouched');
    assert.match(await proxy.admin('show proc'), /respawn/i, 'show proc makes the respawn visible');
    for (let i = 0; i < 20; i++) assert.equal((await request(proxy.url, { headers: { host: 'app.test' } })).statusCode, 200);
  });

  test('200 reloads while traffic flows: zero failed requests', async (t) => {
    const a = await startUpstream(echo('a'));
    const b = await startUpstream(echo('b'));
    t.after(() => Promise.all([a.close(), b.close()]));
    const proxy = await startProxy({ t, config: site('app.test', a.url), workers: 2 });

    const reloads = (async () => {
      for (let i = 0; i < 200; i++) {
        await proxy.writeConfig(site('app.test', i % 2 ? a.url : b.url));
        assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n');
      }
    })();
    const load = await runLoad({ url: proxy.url, host: 'app.test', until: reloads });
    await reloads;
    assert.equal(failures(load), 0, `failed requests: ${JSON.stringify(load)}`);
    assert.ok(load.ok > 200, `traffic actually flowed during the reloads (${load.ok} requests)`);
    assert.ok(a.requests.length > 0 && b.requests.length > 0, 'both generations served traffic');
    assert.equal(JSON.parse(await proxy.admin('show info json')).generation, 201);
  });

  test('restart under load replaces every worker and applies a new worker count with zero failed requests', async (t) => {
    const up = await startUpstream();
    t.after(() => up.close());
    const proxy = await startProxy({ t, config: site('app.test', up.url), workers: 2 });
    const before = await showProc(proxy);

    const current = await readFile(proxy.configPath, 'utf8');
    const restart = (async () => {
      await sleep(300);
      // writeConfig would add the harness preamble again; change the worker count in place.
      await writeFile(`${proxy.configPath}.tmp`, current.replace('workers = 2', 'workers = 3'));
      await rename(`${proxy.configPath}.tmp`, proxy.configPath);
      const reply = await proxy.admin('restart', RESTART_REPLY_MS);
      await sleep(300);
      return reply;
    })();
    // Routed commands keep answering while slots change hands.
    const routed = (async () => {
      const replies: string[] = [];
      let finished = false;
      void restart.finally(() => (finished = true));
      while (!finished) replies.push(await proxy.admin('@1 show info json'));
      return replies;
    })();
    const load = await runLoad({ url: proxy.url, host: 'app.test', until: restart });
    assert.equal(await restart, '{"status":"ok"}\n');
    const replies = await routed;
    assert.ok(replies.length > 0);
    for (const reply of replies) assert.equal(JSON.parse(reply).relative_pid, 1, `routed reply during restart: ${reply}`);
    assert.equal(failures(load), 0, `failed requests: ${JSON.stringify(load)}`);
    assert.ok(load.ok > 100, `traffic flowed (${load.ok})`);

    const after = await showProc(proxy);
    assert.deepEqual(after.map((r) => r.relativePid), [0, 1, 2, 3]);
    for (const row of after.slice(1)) {
      assert.ok(alive(row.pid));
      assert.ok(!before.some((old) => old.pid === row.pid), `worker ${row.relativePid} is a new process`);
    }
    for (const old of before.slice(1)) {
      for (let i = 0; i < 100 && alive(old.pid); i++) await sleep(20);
      assert.ok(!alive(old.pid), `old worker ${old.pid} exited`);
    }
  });
});

describe('restart and the master-held settings', () => {
  test('a changed admin socket setting is kept as it was and named in a warning; traffic goes on', async (t) => {
    const up = await startUpstream();
    t.after(() => up.close());
    const proxy = await startProxy({ t, config: site('app.test', up.url) });
    const current = await readFile(proxy.configPath, 'utf8');
    await writeFile(`${proxy.configPath}.tmp`, `admin_socket_mode = "0600"\n${current}`);
    await rename(`${proxy.configPath}.tmp`, proxy.configPath);
    assert.equal(
      await proxy.admin('restart', RESTART_REPLY_MS),
      '{"status":"ok","warnings":["admin_socket_mode changed: the admin sockets change only when the proxy process restarts"]}\n',
    );
    assert.match(await proxy.admin('show cli sockets'), /0660/, 'the socket keeps the mode it was bound with');
    assert.equal((await request(proxy.url, { headers: { host: 'app.test' } })).statusCode, 200);
  });
});
