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

function ctl(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, 'ctl', ...args], { env: { ...process.env, REVERSE_PROXY_SOCKET: '', ...env }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
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

test('a mistyped command: the seed reply on stdout, the closest commands on stderr', async () => {
  const typo = await ctl(['--socket', t.path, 'show', 'prco']);
  assert.equal(typo.code, 1);
  assert.equal(typo.stdout, '{"status":"error","message":"unknown command: show prco"}\n');
  assert.match(typo.stderr, /^Unknown command, but maybe one of the following ones is a better match:\n {2}show proc +: show processes status\n$/);
  const routed = await ctl(['--socket', t.path, '@1 staus']);
  assert.match(routed.stderr, /^ {2}status +: this worker's health/m, 'a worker command is suggested from the worker\'s table');
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

test('piped input: one command per line on one session, exit status of the last failing one', async () => {
  // A bare @1 lasts for the following lines, as it would typed through socat.
  const routed = await ctl(['--socket', t.path], {}, '@1\nstatus\n\n@\nstatus\n');
  assert.equal(routed.code, 0, routed.stderr);
  assert.match(routed.stdout, new RegExp(`^\\{"status":"ok","uptime_secs":\\d+,"sites":2\\}\\n${STATUS_OK.replace(/[{}]/g, '\\$&')}$`));
  const failing = await ctl(['--socket', t.path], {}, 'bogus\nshow proc\n');
  assert.equal(failing.code, 1, 'an error earlier in the input decides the status');
  assert.match(failing.stdout, /^\{"status":"error","message":"unknown command: bogus"\}\n#<PID> +<type>/);
  // The shell's own form of it, with the system's sh and echo (not spawnSync: this process serves the socket).
  const echoed = spawn('sh', ['-c', `echo 'show proc' | ${process.execPath} ${CLI} ctl --socket ${t.path}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let echoedOut = '';
  echoed.stdout.on('data', (c: Buffer) => (echoedOut += c));
  assert.equal(await new Promise((r) => echoed.on('close', r)), 0);
  assert.match(echoedOut, /^#<PID> +<type> +<relative PID>/);
  // prompt is ctl's business, not the server's; quit ends the input early.
  const local = await ctl(['--socket', t.path], {}, 'prompt\nstatus\nquit\nstatus\n');
  assert.deepEqual(local, { code: 0, stdout: STATUS_OK, stderr: 'reverse-proxy ctl: ctl is already interactive; leave with "quit" or Ctrl-D\n' });
});

const scriptInstalled = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Runs ctl on a pseudo-terminal and types each step's keys once its `after` text has appeared
 * in the output since the previous keys; resolves with the exit status and everything shown.
 */
function typeIntoCtl(steps: { after: string; keys: string }[]): Promise<{ code: number | null; out: string }> {
  const child = spawn('script', ['-qec', `${process.execPath} ${CLI} ctl --socket ${t.path}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let from = 0;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const step = steps[0];
    if (step !== undefined && out.indexOf(step.after, from) !== -1) {
      steps.shift();
      from = out.length;
      child.stdin.write(step.keys);
    }
  });
  // What the person sees: readline's cursor moves (ESC [ ... letter) and CRs taken out.
  return new Promise((r) => child.on('close', (code) => r({ code, out: out.replace(/\x1b\[[0-9;]*[A-Za-z]|\r/g, '') })));
}

const UP = '\x1b[A';
const CTRL_D = '\x04';

test('on a terminal: help <command>, suggestions, history, prompt and Ctrl-D', { skip: scriptInstalled ? false : 'util-linux script is not installed' }, async () => {
  const { code, out } = await typeIntoCtl([
    { after: 'master> ', keys: 'help reload\n' },
    { after: 'master> ', keys: 'show stats\n' },
    { after: 'master> ', keys: `${UP}${UP}\n` }, // the line before the last: help reload again
    { after: 'master> ', keys: 'prompt\n' },
    { after: 'master> ', keys: CTRL_D },
  ]);
  assert.equal(code, 0, out);
  assert.equal(out.match(/^usage: reload \(level operator\)$/gm)?.length, 2, `history recalled "help reload":\n${out}`);
  assert.match(out, /\{"status":"error","message":"unknown command: show stats"\}\nUnknown command, but maybe one of the following ones is a better match:\n {2}show /);
  const expected = /^ {2}show stat +: /m.test(await exchange(t.path, 'help\n')) ? /better match:\n(?: {2}.*\n)* {2}show stat +: / : /better match:\n {2}show /;
  assert.match(out, expected, 'show stat is the suggestion once it exists');
  assert.match(out, /ctl is already interactive; leave with "quit" or Ctrl-D\n/);
  assert.match(out, /master> \n$/, 'Ctrl-D leaves on a new line, with no prompt after it');
});

test('without a command on a terminal, ctl opens the interactive prompt; quit leaves without a stray prompt', { skip: scriptInstalled ? false : 'util-linux script is not installed' }, async () => {
  const { code, out } = await typeIntoCtl([
    { after: 'master> ', keys: '@1\n' },
    { after: '1> ', keys: 'status\n' },
    { after: '1> ', keys: 'show version\n' },
    { after: '1> ', keys: 'quit\n' },
  ]);
  assert.equal(code, 0, out);
  assert.match(out, /^master> @1\n1> status\n\{"status":"ok","uptime_secs":\d+,"sites":2\}\n1> /);
  assert.match(out, /show version\n\d+\.\d+\.\d+.*\n/);
  assert.match(out, /quit\n$/, `nothing after quit:\n${JSON.stringify(out.slice(-80))}`);
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
