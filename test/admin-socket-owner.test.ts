// A squatted admin socket (issue 12, item 3): another local user binds our path first, in a
// world-writable sticky directory, and answers exactly like our master would. The proxy must
// report it as an error naming the owner; ctl and the reloader must refuse to talk to it
// (exit 2) unless told to expect that owner. Needs root, to give the squatter's socket to uid 65534.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { chmod, lstat, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startAdminSocket } from '../src/admin/server.ts';
import { AdminSocketUnsafeError } from '../src/errors.ts';
import { capturingLogger, TestMaster } from './admin-fixture.ts';
import { createConfigMapVolume } from './helpers/kubelet.ts';
import { startLogged } from './helpers/logged-process.ts';
import { CLI, preamble, runCli, startProxy } from './helpers/proxy-process.ts';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** A world-writable sticky directory, like /tmp: anyone may create a name in it. */
async function stickyDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-squat-'));
  await chmod(dir, 0o1777);
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The impostor: a process listening on `path` whose socket file belongs to uid 65534, answering
 * `show info json` as our master would (with `sha256` as its config hash) and anything else with
 * {"status":"ok"}. It prints each command it receives, so a test can tell whether anyone talked
 * to it. The file's owner is all a client can check, so the squatter binds as root and hands the
 * file to 65534: run as 65534 itself, it would need to reach the Node binary inside the checkout,
 * whose directories another user may not be allowed to enter (a CI clone under a 0700 temp dir).
 */
interface Squatter {
  child: ChildProcess;
  /** Commands received so far, in order. */
  commands: string[];
  /** Resolves with `commands` once it holds `count` of them (its output is read asynchronously). */
  received(count: number): Promise<string[]>;
}

async function startSquatter(t: TestContext, path: string, sha256: string): Promise<Squatter> {
  const info = JSON.stringify({ name: 'reverse-proxy', version: '0.1.0', pid: 1, relative_pid: 0, process_type: 'master', config_file: '/etc/reverse-proxy/config.toml', config_sha256: sha256, generation: 1 });
  const script = `
    const [path, info] = process.argv.slice(1);
    require('node:net').createServer((c) => {
      let line = '';
      c.on('error', () => {});
      c.on('data', (d) => {
        line += d;
        if (!line.includes('\\n')) return;
        const command = line.trim();
        console.log(command);
        c.end(command === 'show info json' ? info + '\\n' : '{"status":"ok"}\\n');
      });
    }).listen(path, () => {
      require('node:fs').chownSync(path, ${NOBODY}, ${NOBODY});
      console.log('listening');
    });`;
  const child = spawn(process.execPath, ['-e', script, path, info], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const commands: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`squatter exited with ${code}`)));
    lines.on('line', (line) => (line === 'listening' ? resolve() : commands.push(line)));
  });
  assert.equal((await lstat(path)).uid, NOBODY, 'the squatter owns the socket file');
  const received = (count: number) =>
    new Promise<string[]>((resolve) => {
      const check = () => (commands.length >= count ? resolve(commands) : lines.once('line', check));
      check();
    });
  return { child, commands, received };
}

const OWNER_MESSAGE = (path: string) => `admin socket ${path} is owned by uid ${NOBODY} (nobody), not by this user (uid 0) or root`;

describe('an admin socket squatted by another user', { skip: !isRoot && 'needs root to give a socket to uid 65534' }, () => {
  test('the proxy reports it as an error naming the owner, leaves it alone and serves traffic', async (t) => {
    const dir = await stickyDir(t);
    const path = join(dir, 'admin.sock');
    await startSquatter(t, path, 'a'.repeat(64));
    const proxy = await startProxy({ t, raw: true, config: `${preamble(dir, 1)}[[sites]]\ndefault = true\nupstream = "http://127.0.0.1:1"\n` });
    const failed = await proxy.waitForLog((l) => l.event === 'admin_socket_failed');
    assert.equal(failed.level, 'error');
    assert.equal(failed.message, `${OWNER_MESSAGE(path)}; another user holds this path; refusing to use or remove it (choose a directory only the proxy can write to)`);
    assert.equal(proxy.logs.find((l) => l.event === 'admin_socket_in_use'), undefined, 'not mistaken for another instance of ours');
    assert.deepEqual(proxy.logs.find((l) => l.event === 'ready')?.admin_sockets, []);
    assert.equal((await lstat(path)).uid, NOBODY, "the squatter's socket is untouched");
  });

  test('ctl refuses with exit status 2 and talks to it only when told to expect that owner', async (t) => {
    const dir = await stickyDir(t);
    const path = join(dir, 'admin.sock');
    const squatter = await startSquatter(t, path, 'a'.repeat(64));
    const refused = await runCli(['ctl', '--socket', path, 'reload']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stdout, '');
    assert.equal(
      refused.stderr,
      `reverse-proxy ctl: ${OWNER_MESSAGE(path)}; refusing to talk to it; if the proxy runs as that user, name it with --socket-owner (env REVERSE_PROXY_SOCKET_OWNER)\n`,
    );
    assert.deepEqual(squatter.commands, [], 'nothing was sent to the squatter');

    for (const [args, env] of [[['--socket-owner', String(NOBODY)], {}], [['--socket-owner', 'nobody'], {}], [[], { REVERSE_PROXY_SOCKET_OWNER: 'nobody' }]] as const) {
      const accepted = await runCli(['ctl', '--socket', path, ...args, 'reload'], { env });
      assert.deepEqual({ code: accepted.code, stdout: accepted.stdout }, { code: 0, stdout: '{"status":"ok"}\n' }, `${args.join(' ')} ${JSON.stringify(env)}`);
    }
    assert.deepEqual(await squatter.received(3), ['reload', 'reload', 'reload']);
    const unknown = await runCli(['ctl', '--socket', path, '--socket-owner', 'no-such-user-here', 'reload']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--socket-owner "no-such-user-here": no such user in \/etc\/passwd; give the uid as a number/);
  });

  test('the reloader exits with status 2 naming the owner, and reconciles with it when REVERSE_PROXY_SOCKET_OWNER names it', async (t) => {
    const dir = await stickyDir(t);
    const path = join(dir, 'admin.sock');
    const text = '[[sites]]\ndefault = true\nupstream = "http://127.0.0.1:1"\n';
    const volume = await createConfigMapVolume({ 'config.toml': text }, dir);
    const squatter = await startSquatter(t, path, createHash('sha256').update(text).digest('hex'));
    const args = [CLI, 'reloader', '--watch', volume.dir, '--socket', path];
    const env = { KUBECONFIG: '', POD_NAME: '', POD_NAMESPACE: '' };

    const refusing = startLogged('reloader', process.execPath, args, env);
    t.after(() => refusing.child.kill('SIGKILL'));
    const fatal = await refusing.waitForLog((l) => l.event === 'admin_socket_refused');
    assert.equal(fatal.level, 'fatal');
    assert.equal(fatal.owner_uid, NOBODY);
    assert.match(String(fatal.msg), new RegExp(`^${OWNER_MESSAGE(path).replace(/[.()]/g, '\\$&')}; refusing to talk to it`));
    assert.deepEqual(await refusing.exited, { code: 2, signal: null });
    assert.deepEqual(squatter.commands, [], 'the reloader never sent it a command');

    const trusting = startLogged('reloader', process.execPath, args, { ...env, REVERSE_PROXY_SOCKET_OWNER: String(NOBODY) });
    t.after(() => trusting.child.kill('SIGKILL'));
    await trusting.waitForLog((l) => l.event === 'in_sync');
    assert.deepEqual(await squatter.received(1), ['show info json']);
    assert.deepEqual(await trusting.stop(), { code: 0, signal: null });
  });
});

test('a live socket of our own user that does not answer as a reverse-proxy master is refused, not taken for ours', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rp-occupant-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'admin.sock');
  const other = createServer((c) => c.on('error', () => undefined).resume().end('hello from another program\n'));
  await new Promise<void>((resolve) => other.listen(path, resolve));
  t.after(() => new Promise((resolve) => other.close(resolve)));
  const { logger } = capturingLogger();
  await assert.rejects(
    startAdminSocket({ path, mode: 0o660, level: 'admin', backend: new TestMaster(), logger }),
    (err: unknown) =>
      err instanceof AdminSocketUnsafeError &&
      err.message === `admin socket ${path}: is answered by a process that is not a reverse-proxy master (it does not reply to "show info json" as one); refusing to use or remove it`,
  );
  assert.ok((await lstat(path)).isSocket(), 'the other program keeps its socket');
});
