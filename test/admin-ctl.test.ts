// `reverse-proxy ctl` as a real child process: what it prints and its exit status, which is
// what the kubelet's exec readiness probe acts on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { exitCodeForReply } from '../src/admin/ctl.ts';
import { DEFAULT_ADMIN_SOCKET_PATH } from '../src/config/defaults.ts';
import { exchange, startTestSocket, tempDir, type TestSocket } from './admin-fixture.ts';
import { loadedModules } from './helpers/loaded-modules.ts';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');
const STATUS_OK = '{"status":"ok","uptime_secs":62,"sites":2}\n';

function ctl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, 'ctl', ...args], { env: { ...process.env, REVERSE_PROXY_SOCKET: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

let t: TestSocket;
before(async () => {
  t = await startTestSocket();
});
after(async () => {
  await t.close();
});

test('exit 0 and the reply on stdout when the status is ok', async () => {
  assert.deepEqual(await ctl(['--socket', t.path, 'status']), { code: 0, stdout: STATUS_OK, stderr: '' });
  assert.deepEqual(await ctl([`--socket=${t.path}`, 'reload']), { code: 0, stdout: '{"status":"ok"}\n', stderr: '' });
});

test('exit 1 on an error reply: unknown command, draining, permission', async () => {
  assert.deepEqual(await ctl(['--socket', t.path, 'bogus']), { code: 1, stdout: '{"status":"error","message":"unknown command: bogus"}\n', stderr: '' });
  t.backend.draining = true;
  try {
    assert.deepEqual(await ctl(['--socket', t.path, 'status']), { code: 1, stdout: '{"status":"error","message":"shutting down"}\n', stderr: '' });
  } finally {
    t.backend.draining = false;
  }
  assert.equal((await ctl(['--socket', t.path, 'status;', 'bogus'])).code, 1, 'any error in a chain fails');
});

test('text replies exit 0; words are joined into one command line', async () => {
  const result = await ctl(['--socket', t.path, 'show', 'proc']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^#<PID> +<type> +<relative PID>/);
  const routed = await ctl(['--socket', t.path, '@1 show info; @2 show info']);
  assert.equal(routed.code, 0);
  assert.equal(routed.stdout.match(/^Process_type: worker$/gm)?.length, 2);
});

test('exit 2 with a message naming the path when the socket cannot be reached', async () => {
  const { dir, remove } = await tempDir();
  try {
    const missing = join(dir, 'missing.sock');
    const result = await ctl(['--socket', missing, 'status']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `reverse-proxy ctl: cannot reach admin socket ${missing}: no such socket (is the proxy running, and is the path right?)\n`);

    // A socket file nobody listens on.
    const stale = join(dir, 'stale.sock');
    const child = spawnSync(process.execPath, ['-e', `const s=require('node:net').createServer().listen(${JSON.stringify(stale)},()=>process.kill(process.pid,'SIGKILL'))`]);
    assert.equal(child.signal, 'SIGKILL');
    const refused = await ctl(['--socket', stale, 'status']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`cannot reach admin socket ${stale}: connection refused`));

    // A server that accepts and closes without answering.
    const mute = join(dir, 'mute.sock');
    const server = createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(mute, r));
    const silent = await ctl(['--socket', mute, 'status']);
    server.close();
    assert.equal(silent.code, 2);
    assert.match(silent.stderr, /closed the connection without a reply/);
  } finally {
    await remove();
  }
});

test('a server that never answers is given up on after --timeout', async () => {
  const { dir, remove } = await tempDir();
  try {
    const hung = join(dir, 'hung.sock');
    const server = createServer({ allowHalfOpen: true }, (c) => c.resume());
    await new Promise<void>((r) => server.listen(hung, r));
    const result = await ctl(['--socket', hung, '--timeout', '0.2', 'status']);
    server.close();
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no reply within 200 ms/);
  } finally {
    await remove();
  }
});

test('REVERSE_PROXY_SOCKET chooses the socket; --socket wins over it', async () => {
  assert.equal((await ctl(['status'], { REVERSE_PROXY_SOCKET: t.path })).code, 0);
  assert.equal((await ctl(['--socket', '/nonexistent/x.sock', 'status'], { REVERSE_PROXY_SOCKET: t.path })).code, 2);
});

test('the readiness probe path (cli.ts ctl status) loads none of the heavy dependencies', async () => {
  const { code, stderr, resolved: loaded } = await loadedModules(new URL('../src/cli.ts', import.meta.url).href, ['ctl', '--socket', t.path, 'status']);
  assert.equal(code, 0, stderr);
  assert.ok(loaded.some((url) => url.endsWith('/src/admin/ctl.ts')), 'the hook saw the modules');
  const heavy = loaded.filter((url) => /node_modules\/(zod|pino|undici|smol-toml|chokidar|@kubernetes)\//.test(url));
  assert.deepEqual(heavy, []);
  assert.equal(DEFAULT_ADMIN_SOCKET_PATH, '/run/reverse-proxy/admin.sock');
});

test('--help exits 0; bad usage exits 2 with the usage', async () => {
  const help = await ctl(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: reverse-proxy ctl \[--socket PATH\]/);
  const bad = await ctl(['--nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /usage: reverse-proxy ctl/);
  const noCommand = await ctl(['--socket', t.path]);
  assert.equal(noCommand.code, 2, 'no command and no terminal');
  const twoLines = await ctl(['--socket', t.path, 'status\nreload']);
  assert.equal(twoLines.code, 2);
  assert.match(twoLines.stderr, /must be one line/);
});

test('exitCodeForReply: any JSON error line fails, text and ok lines pass', () => {
  assert.equal(exitCodeForReply('{"status":"ok"}\n'), 0);
  assert.equal(exitCodeForReply('#<PID> <type>\n1 master\n'), 0);
  assert.equal(exitCodeForReply('{"status":"ok"}\n{"status":"error","message":"x"}\n'), 1);
  assert.equal(exitCodeForReply('{not json\n'), 0);
});

const scriptInstalled = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('without a command on a terminal, ctl opens the interactive prompt', { skip: scriptInstalled ? false : 'util-linux script is not installed' }, async () => {
  // `script` gives ctl a pseudo-terminal as stdin; the input lines are typed into it.
  const command = `${process.execPath} ${CLI} ctl --socket ${t.path}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const script = [
    { after: 'master> ', type: '@1\n' },
    { after: '1> ', type: 'status\n' },
    { after: '"sites":2}', type: 'quit\n' },
  ];
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const step = script[0];
    if (step !== undefined && out.includes(step.after)) {
      script.shift();
      child.stdin.write(step.type);
    }
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0);
  assert.match(out.replaceAll('\r', ''), /master> .*1> .*\{"status":"ok","uptime_secs":\d+,"sites":2\}\n1> /s);
});

/** Every module ctl loads, following relative imports from ctl.ts. */
async function importGraph(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(/^\s*(import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
      const specifier = match[2] ?? match[3] ?? match[4]!;
      if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  await visit(entry);
  return { files: [...files], packages: [...packages] };
}

test('ctl stays light: only node: built-ins in its import graph (no pino, no zod, no undici)', async () => {
  const { files, packages } = await importGraph(join(import.meta.dirname, '..', 'src', 'admin', 'ctl.ts'));
  assert.deepEqual(packages.filter((p) => !p.startsWith('node:')), [], `ctl imports ${packages.join(', ')}`);
  assert.ok(files.length <= 6, `ctl loads ${files.length} local modules: ${files.join(', ')}`);
});

test('one more client after all that still gets a straight answer', async () => {
  assert.equal(await exchange(t.path, 'status\n'), STATUS_OK);
});
