// The master's relay of its workers' output (src/runtime/worker-output.ts), on real forked
// processes with the pipes node:cluster gives them (`silent: true`): lines arrive whole and byte
// for byte, never interleaved between workers or with the master's own lines, a line cut across
// writes is joined, stdout and stderr each go to their own writer, and a stdout nobody reads
// stops the relay reading (the worker then meets the full pipe) instead of the master holding
// the lines. The relay reads through two fields Node does not document; if the pinned Node
// changes them, attach() throws and every test here fails.
import assert from 'node:assert/strict';
import { execFileSync, fork, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LogWriter, MAX_LOG_BACKLOG_BYTES } from '../src/log-writer.ts';
import { MAX_RELAYED_LINE_BYTES, WORKER_OUTPUT_READ_BYTES, WorkerOutputRelay } from '../src/runtime/worker-output.ts';
import { until } from './helpers/until.ts';

/** A stand-in worker: writes `batches` batches of lines to stdout, some cut across two writes, then one line to stderr. */
const WORKER = `
import { writeSync } from 'node:fs';
const [name, batches] = [process.argv[2], Number(process.argv[3])];
const line = (b, i) => JSON.stringify({ event: 'access', worker: name, b, i, path: '/é/' + 'x'.repeat((b * 7 + i * 13) % 300) }) + '\\n';
for (let b = 0; b < batches; b++) {
  let text = '';
  for (let i = 0; i < 200; i++) text += line(b, i);
  const bytes = Buffer.from(text);
  // Every third batch ends mid-line, and the rest of that line comes in the next write.
  const cut = b % 3 === 0 ? bytes.length - 17 : bytes.length;
  for (let at = 0; at < cut; ) at += writeSync(1, bytes.subarray(at, cut));
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let at = cut; at < bytes.length; ) at += writeSync(1, bytes.subarray(at));
}
writeSync(2, 'stderr of ' + name);
`;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-worker-output-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A temp dir holding `source` as the worker's script, and a relay to the files stdout and stderr in it. */
async function relayToFiles(t: TestContext, source: string): Promise<{ dir: string; script: string; stdout: LogWriter; relay: WorkerOutputRelay }> {
  const dir = await tempDir(t);
  const script = join(dir, 'worker.mjs');
  writeFileSync(script, source);
  const stdoutFd = openSync(join(dir, 'stdout'), 'w');
  const stderrFd = openSync(join(dir, 'stderr'), 'w');
  t.after(() => [stdoutFd, stderrFd].forEach((fd) => closeSync(fd)));
  const stdout = new LogWriter(stdoutFd);
  return { dir, script, stdout, relay: new WorkerOutputRelay(stdout, new LogWriter(stderrFd)) };
}

function forkWorker(script: string, name: string, batches: number) {
  const child = fork(script, [name, String(batches)], { silent: true, execArgv: [] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

test('two workers writing at once: every line relayed whole and byte for byte, lines cut across writes joined, stderr apart', async (t) => {
  const { dir, script, relay } = await relayToFiles(t, WORKER);
  const batches = 60;
  const workers = ['a', 'b'].map((name) => forkWorker(script, name, batches));
  for (const { child } of workers) relay.attach(child.stdout, child.stderr);
  await Promise.all(workers.map((w) => w.exited));
  await relay.ended(10_000);

  const lines = readFileSync(join(dir, 'stdout'), 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'stdout ends with a whole line');
  assert.equal(lines.length, 2 * batches * 200);
  const next = new Map([['a', 0], ['b', 0]]);
  for (const text of lines) {
    const line = JSON.parse(text) as { worker: string; b: number; i: number; path: string };
    const seen = next.get(line.worker) as number;
    // In each worker's own order, and exactly the bytes it wrote.
    assert.equal(line.b * 200 + line.i, seen);
    assert.equal(text, JSON.stringify({ event: 'access', worker: line.worker, b: line.b, i: line.i, path: `/é/${'x'.repeat((line.b * 7 + line.i * 13) % 300)}` }));
    next.set(line.worker, seen + 1);
  }
  // What a worker wrote without a final newline is passed on when its pipe ends, as a line.
  const stderr = readFileSync(join(dir, 'stderr'), 'utf8').split('\n').sort();
  assert.deepEqual(stderr, ['', 'stderr of a', 'stderr of b']);
});

test('a stdout nobody reads: the relay stops reading the worker, its backlog stays bounded, and everything arrives once stdout is read again', async (t) => {
  const dir = await tempDir(t);
  const script = join(dir, 'worker.mjs');
  writeFileSync(script, WORKER);
  const fifo = join(dir, 'stdout');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writerFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const stderrFd = openSync(join(dir, 'stderr'), 'w');
  t.after(() => [reader, writerFd, stderrFd].forEach((fd) => closeSync(fd)));
  const stdout = new LogWriter(writerFd);
  const relay = new WorkerOutputRelay(stdout, new LogWriter(stderrFd));
  // About 8 MiB of lines: far more than the FIFO, the backlog and the worker's pipe hold together.
  const batches = 400;
  const worker = forkWorker(script, 'a', batches);
  t.after(() => worker.child.kill('SIGKILL'));
  relay.attach(worker.child.stdout, worker.child.stderr);
  let exited = false;
  void worker.exited.then(() => (exited = true));

  await until(() => stdout.counts.backlogBytes >= MAX_LOG_BACKLOG_BYTES, 'the backlog to fill');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(exited, false, 'the worker is held by its own full pipe');
  assert.ok(stdout.counts.backlogBytes <= MAX_LOG_BACKLOG_BYTES + WORKER_OUTPUT_READ_BYTES, `backlog ${stdout.counts.backlogBytes}`);

  // Read the FIFO again: the relay resumes and every line arrives, whole.
  const chunk = Buffer.alloc(256 * 1024);
  const parts: Buffer[] = [];
  const drain = () => {
    for (;;) {
      try {
        const n = readSync(reader, chunk);
        if (n === 0) return;
        parts.push(Buffer.from(chunk.subarray(0, n)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw err;
      }
    }
  };
  await until(() => {
    drain();
    return exited && stdout.counts.backlogBytes === 0;
  }, 'the worker to finish and the relay to catch up', 30_000);
  await relay.ended(10_000);
  drain();
  const lines = Buffer.concat(parts).toString('utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, batches * 200);
  lines.forEach((text, n) => assert.equal((JSON.parse(text) as { b: number; i: number }).b * 200 + (JSON.parse(text) as { i: number }).i, n));
  assert.equal(stdout.counts.dropped, 0, 'the master dropped nothing: it stopped reading instead');
});

/**
 * Writes the first 1,000 bytes of a line, then exactly one pipe's worth (64 KiB, which the
 * master takes in one read) that ends mid-line, then the end of that line: each write waits
 * until the master has read the one before.
 */
const LONG_READ_WORKER = `
import { writeSync } from 'node:fs';
const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ event: 'access', i, path: '/' + 'x'.repeat(2_000) }) + '\\n').join('');
const bytes = Buffer.from(lines);
for (const [from, to] of [[0, 1_000], [1_000, 1_000 + 65_536], [1_000 + 65_536, bytes.length]]) {
  for (let at = from; at < to; ) at += writeSync(1, bytes.subarray(at, to));
  await pause();
}
`;

test("a full read that completes a held line and ends mid-line: the line's end is waited for, and the master's own lines never land inside it", async (t) => {
  const { dir, script, stdout, relay } = await relayToFiles(t, LONG_READ_WORKER);
  const worker = forkWorker(script, 'a', 0);
  relay.attach(worker.child.stdout, worker.child.stderr);
  // The master logs while the worker pauses between its writes.
  const own = `${JSON.stringify({ event: 'master_line' })}\n`;
  const ownLogger = setInterval(() => stdout.write(own), 20);
  await worker.exited;
  await relay.ended(10_000);
  clearInterval(ownLogger);

  const lines = readFileSync(join(dir, 'stdout'), 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  const relayed = lines.filter((text) => text !== own.trimEnd());
  assert.ok(lines.length > relayed.length, 'the master wrote lines of its own meanwhile');
  assert.deepEqual(relayed.map((text) => (JSON.parse(text) as { i: number }).i), Array.from({ length: 40 }, (_, i) => i));
});

test('output with no newline in MAX_RELAYED_LINE_BYTES is passed on as it is, not held until its line ends', async (t) => {
  const unterminated = 4 * MAX_RELAYED_LINE_BYTES;
  const { dir, script, relay } = await relayToFiles(t, `
import { writeSync } from 'node:fs';
const bytes = Buffer.alloc(${unterminated}, 'x');
for (let at = 0; at < bytes.length; ) at += writeSync(1, bytes.subarray(at));
await new Promise((resolve) => setTimeout(resolve, 5_000));
`);
  const worker = forkWorker(script, 'a', 0);
  t.after(() => worker.child.kill('SIGKILL'));
  relay.attach(worker.child.stdout, worker.child.stderr);
  // Held back at most: one limit's worth, plus the read that did not yet pass it.
  await until(() => statSync(join(dir, 'stdout')).size >= unterminated - MAX_RELAYED_LINE_BYTES - WORKER_OUTPUT_READ_BYTES, 'the unterminated output to be passed on');
  assert.equal(worker.child.exitCode, null, 'passed on while the line is still open');
  assert.ok(/^x+$/.test(readFileSync(join(dir, 'stdout'), 'utf8')));
});

test('a pipe already closed is refused with WorkerOutputError, not read as if it were open', (t) => {
  const child = spawn(process.execPath, ['-e', ''], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  const nullFd = openSync('/dev/null', 'w');
  t.after(() => closeSync(nullFd));
  const relay = new WorkerOutputRelay(new LogWriter(nullFd), new LogWriter(nullFd));
  child.stdout.destroy();
  assert.throws(() => relay.attach(child.stdout, null), { name: 'WorkerOutputError', code: 'ERR_WORKER_OUTPUT', message: "cannot relay a worker's output: its pipe is already closed (no handle to read)" });
});
