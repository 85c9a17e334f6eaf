// docs/admin-socket.md cannot drift from the product: every ```console block in it is run, in
// order, against a proxy started from the page's own ```toml docs-config block, and each `$ `
// command's output must match what the page shows, PIDs, times, uptimes and hashes masked.
// A block preceded by `<!-- docs-test: skip (why) -->` is shown only. Commands added to the
// page later by anyone are checked the same way. After changing an output on purpose:
//   DOCS_UPDATE=1 ./node_modules/.bin/node --test test/docs-admin-socket.test.ts
// rewrites the page's outputs from a real run (then read the diff).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './helpers/helm.ts';
import { startLogged } from './helpers/logged-process.ts';
import { CLI } from './helpers/proxy-process.ts';

const PAGE = join(REPO_ROOT, 'docs', 'admin-socket.md');
const DOC_RUN_DIR = '/run/reverse-proxy';
const DOC_ETC_DIR = '/etc/reverse-proxy';

interface Step {
  command: string;
  expected: string[];
  /** Index in the page's lines of the first expected line, for DOCS_UPDATE. */
  at: number;
}

interface Block {
  line: number;
  steps: Step[];
}

/** The runnable console blocks and the docs-config block of the page. */
export function parsePage(text: string): { config: string; blocks: Block[] } {
  const lines = text.split('\n');
  let config: string | undefined;
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    const body = lines.slice(i + 1, end);
    const skipped = /^<!-- docs-test: skip\b/.test(lines[i - 1] ?? '');
    if (fence[1] === 'toml' && fence[2]!.trim() === 'docs-config') config = body.join('\n');
    if (fence[1] === 'console' && !skipped) {
      const steps: Step[] = [];
      body.forEach((line, j) => {
        if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [], at: i + 2 + j });
        else steps.at(-1)?.expected.push(line);
      });
      blocks.push({ line: i + 1, steps });
    }
    i = end;
  }
  if (config === undefined) throw new Error('docs/admin-socket.md has no ```toml docs-config block');
  return { config, blocks };
}

/** What may differ between the page and a run: PIDs, times, uptimes, hashes. */
export function mask(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const masked = line
        .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
        .replace(/\b[0-9a-f]{12}\b/g, '<sha12>')
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
        .replace(/\d+d\d\dh\d\dm\d\ds/g, '<uptime>')
        .replace(/("uptime_secs?":)\d+/g, '$1<n>')
        .replace(/^(Uptime_sec: )\d+/g, '$1<n>')
        .replace(/("pid":)\d+/g, '$1<pid>')
        .replace(/^(Pid: )\d+/g, '$1<pid>')
        .replace(/^\d+(?= +(master|worker) )/g, '<pid>')
        .replace(/!\d+> /g, '!<pid>> ')
        .trimEnd();
      // A PID's width moves the padding of the columns after it.
      return masked.includes('<pid>') ? masked.replace(/ {2,}/g, ' ') : masked;
    })
    .join('\n')
    .replace(/\n+$/, '');
}

function shell(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => {
    // stderr interleaved with stdout, as a terminal shows them.
    const child = spawn('sh', ['-c', `exec 2>&1\n${command}`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('close', () => resolve(out));
  });
}

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

test('every console example of docs/admin-socket.md gives the output it shows', { skip: hasSocat ? false : 'socat is not installed (apt-get install socat)' }, async (t) => {
  const text = await readFile(PAGE, 'utf8');
  const { config, blocks } = parsePage(text);
  assert.ok(blocks.length >= 10, `only ${blocks.length} console blocks`);

  const dir = await mkdtemp(join(tmpdir(), 'rp-docs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runDir = join(dir, 'run');
  const etcDir = join(dir, 'etc');
  const binDir = join(dir, 'bin');
  await Promise.all([mkdir(runDir), mkdir(etcDir), mkdir(binDir)]);
  // `reverse-proxy` as the image has it on PATH, run from this checkout.
  await writeFile(join(binDir, 'reverse-proxy'), `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`);
  await chmod(join(binDir, 'reverse-proxy'), 0o755);
  const toLocal = (s: string) => s.replaceAll(`${DOC_RUN_DIR}/`, `${runDir}/`).replaceAll(`${DOC_ETC_DIR}/`, `${etcDir}/`);
  const toPage = (s: string) => s.replaceAll(runDir, DOC_RUN_DIR).replaceAll(etcDir, DOC_ETC_DIR);
  // The page shows the usual port; the test binds a free one.
  await writeFile(join(etcDir, 'config.toml'), toLocal(config).replace(/^port = \d+$/gm, 'port = 0'));

  const proxy = startLogged('proxy', process.execPath, [CLI, 'serve', '--config', join(etcDir, 'config.toml')]);
  t.after(() => proxy.stop());
  await proxy.waitForLog((l) => l.event === 'ready');
  const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, REVERSE_PROXY_SOCKET: join(runDir, 'admin.sock') };

  const pageLines = text.split('\n');
  const updates: { at: number; count: number; lines: string[] }[] = [];
  let checked = 0;
  for (const block of blocks) {
    for (const step of block.steps) {
      const actual = toPage(await shell(toLocal(step.command), env));
      if (process.env.DOCS_UPDATE) updates.push({ at: step.at, count: step.expected.length, lines: actual === '' ? [] : actual.replace(/\n$/, '').split('\n') });
      else assert.equal(mask(actual), mask(step.expected.join('\n')), `docs/admin-socket.md:${step.at}: $ ${step.command}`);
      checked++;
    }
  }
  t.diagnostic(`${checked} commands in ${blocks.length} blocks`);
  if (process.env.DOCS_UPDATE) {
    for (const u of updates.reverse()) pageLines.splice(u.at, u.count, ...u.lines);
    await writeFile(PAGE, pageLines.join('\n'));
  }
});

test('the masks hide what changes between runs and nothing else', () => {
  assert.equal(mask('7522            master          0               1               0d00h00m02s     0.1.0'), '<pid> master 0 1 <uptime> 0.1.0');
  assert.equal(mask('{"status":"ok","uptime_secs":2,"sites":2}'), '{"status":"ok","uptime_secs":<n>,"sites":2}');
  assert.notEqual(mask('{"status":"ok","uptime_secs":2,"sites":2}'), mask('{"status":"ok","uptime_secs":2,"sites":3}'));
  assert.notEqual(mask('Generation: 2'), mask('Generation: 3'));
});
