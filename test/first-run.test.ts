// The first ten minutes on a fresh machine, whose `node` is older than the project's (Node 20
// here): every command `npm start` prints and every `npx reverse-proxy` line of README.md runs
// as typed, with the system's node and npm first on PATH, as a newcomer's shell would have them.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { REPO_ROOT } from './helpers/helm.ts';
import { startLogged } from './helpers/logged-process.ts';
import { preamble } from './helpers/proxy-process.ts';
import { tempDir } from './admin-fixture.ts';

/** PATH without the node_modules/.bin entries npm puts first when it runs the tests. */
const SYSTEM_PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => !dir.endsWith(join('node_modules', '.bin')))
  .join(':');
// No update notice: it would be the only thing on stderr that is not about the project.
const SYSTEM_ENV = { ...process.env, PATH: SYSTEM_PATH, REVERSE_PROXY_SOCKET: '', npm_config_update_notifier: 'false' };
const systemNodeVersion = spawnSync('node', ['--version'], { env: SYSTEM_ENV, encoding: 'utf8' }).stdout?.trim();
const systemNpm = spawnSync('npm', ['--version'], { env: SYSTEM_ENV, encoding: 'utf8' }).status === 0;
const skip = systemNodeVersion && systemNpm ? false : 'no system node and npm on PATH';
const BIN = join(REPO_ROOT, 'bin', 'reverse-proxy.js');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command line the way a person's shell would, from the repository root. */
function shell(line: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: REPO_ROOT, env: SYSTEM_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a printed command must answer, by what it asks. */
function assertAnswer(line: string, ran: Ran): void {
  assert.equal(ran.code, 0, `${line}\n${ran.stderr}`);
  assert.doesNotMatch(ran.stderr, /EBADENGINE|Unknown file extension/, line);
  if (line.startsWith('curl')) assert.match(ran.stdout, /hello from the demo upstream/, line);
  else if (line.endsWith(' status')) assert.match(ran.stdout, /^\{"status":"ok","uptime_secs":\d+,"sites":1\}\n$/, line);
  else if (line.endsWith(' show proc')) assert.match(ran.stdout, /^#<PID> +<type>.*\n\d+ +master +0 /s, line);
  else if (line.endsWith(' reload')) assert.equal(ran.stdout, '{"status":"ok"}\n', line);
  else if (line.includes(' check ')) assert.match(ran.stdout, /: ok: /, line);
  else assert.fail(`no expectation for the printed command: ${line}`);
}

test('npx reverse-proxy runs the sources without a build and without an engine warning', { skip }, async () => {
  const ran = await shell('npx reverse-proxy --version');
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, `${JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).version}\n`);
  assert.doesNotMatch(ran.stderr, /EBADENGINE/, 'no engine warning about the project');
});

test('npm ci prints no engine warning about the project itself', { skip }, async (t) => {
  // A dry run from the npm cache in a copy: same engine checks as a real `npm ci`, nothing installed.
  const { dir, remove } = await tempDir();
  t.after(remove);
  for (const file of ['package.json', 'package-lock.json']) await writeFile(join(dir, file), await readFile(join(REPO_ROOT, file)));
  const ran = spawnSync('npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, env: SYSTEM_ENV, encoding: 'utf8' });
  const name = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).name as string;
  assert.doesNotMatch(ran.stderr, new RegExp(`EBADENGINE +package: '${name}@`), ran.stderr);
  assert.match(ran.stderr + ran.stdout, /EBADENGINE|added|up to date|\d+ packages/, 'npm ci ran its checks');
});

test('every command npm start prints, and every npx line of the README, works as printed', { skip }, async (t) => {
  // `npm start` runs in its own process group so the whole tree (npm, sh, node) stops together.
  const demo = spawn('npm', ['start', '--', '--port', '0'], { cwd: REPO_ROOT, env: SYSTEM_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => demo.once('exit', resolve));
  t.after(async () => {
    process.kill(-demo.pid!, 'SIGINT');
    await exited;
  });
  const banner: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: demo.stderr }).on('line', (line) => {
      banner.push(line);
      if (line.includes('stop:')) resolve();
    });
    demo.once('exit', () => reject(new Error(`npm start exited early:\n${banner.join('\n')}`)));
  });
  const printed = banner.flatMap((line) => /^\s+(?:[a-z ]+:\s+)?((?:curl|npx) .+)$/.exec(line)?.[1] ?? []);
  assert.equal(printed.length, 4, `commands in the banner:\n${banner.join('\n')}`);

  const socket = /admin socket:\s+(\S+)/.exec(banner.join('\n'))![1]!;
  const demoDir = socket.slice(0, socket.lastIndexOf('/'));
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const fromReadme = [...readme.matchAll(/^npx reverse-proxy .+$/gm)].map((m) => m[0].replaceAll('/tmp/reverse-proxy-demo-XXXX', demoDir));
  assert.ok(fromReadme.length >= 3, 'the README shows the demo commands');

  for (const line of [...printed, ...fromReadme]) assertAnswer(line, await shell(line));
});

test('bin/reverse-proxy.js under an old node re-runs itself under the pinned Node 24 and relays signals', { skip }, async (t) => {
  t.diagnostic(`system node: ${systemNodeVersion}`);
  const { dir, remove } = await tempDir();
  t.after(remove);
  const config = join(dir, 'config.toml');
  await writeFile(config, `${preamble(dir, 1)}[[sites]]\nhost = "a.test"\nupstream = "http://127.0.0.1:9"\n`);
  const proxy = startLogged('proxy', 'node', [BIN, 'serve', '--config', config], { PATH: SYSTEM_PATH });
  t.after(() => proxy.stop());
  await proxy.waitForLog((l) => l.event === 'ready');
  proxy.child.kill('SIGHUP');
  await proxy.waitForLog((l) => l.event === 'reload' && l.result === 'ok');
  proxy.child.kill('SIGTERM');
  assert.deepEqual(await proxy.exited, { code: 0, signal: null }, proxy.tail());
  assert.ok(proxy.logs.some((l) => l.event === 'shutdown'), 'the master drained and stopped, not just the wrapper');
});
