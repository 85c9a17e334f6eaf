// The log writer on a real pipe that nobody reads: it never blocks, holds a bounded backlog,
// drops and counts what does not fit, lets other lines past queued access lines, and reports
// the drops once the reader catches up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_RESERVE_BYTES, LogWriter, MAX_LOG_BACKLOG_BYTES } from '../src/log-writer.ts';

const accessLine = (i: number) => `{"level":"info","event":"access","n":${i},"path":"/${'a'.repeat(150)}"}\n`;

/** Everything the pipe holds right now. */
function readAvailable(fd: number): string {
  const chunk = Buffer.alloc(64 * 1024);
  let text = '';
  for (;;) {
    try {
      const n = readSync(fd, chunk);
      if (n === 0) return text;
      text += chunk.toString('utf8', 0, n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return text;
      throw err;
    }
  }
}

/** A real FIFO opened at both ends, non-blocking, closed when the test ends. */
async function openPipe(t: TestContext): Promise<{ reader: number; writerFd: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-logwriter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'stdout');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writerFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  t.after(() => closeSync(writerFd));
  return { reader, writerFd };
}

test('a full pipe: bounded backlog, drops counted, other lines first, drops reported when it drains', async (t) => {
  const { reader, writerFd } = await openPipe(t);
  t.after(() => closeSync(reader));
  const writer = new LogWriter(writerFd);
  const reports: number[] = [];
  writer.reportDrops = (dropped) => {
    reports.push(dropped);
    writer.write(`{"level":"warn","event":"log_lines_dropped","dropped":${dropped}}\n`);
  };

  const lines = 3 * Math.ceil(MAX_LOG_BACKLOG_BYTES / accessLine(0).length);
  const started = performance.now();
  for (let i = 0; i < lines; i++) writer.write(accessLine(i));
  writer.write('{"level":"info","event":"draining"}\n');
  assert.ok(performance.now() - started < 5_000, 'writing to a full pipe never waited for it');
  const { dropped, backlogBytes } = writer.counts;
  assert.ok(backlogBytes <= MAX_LOG_BACKLOG_BYTES + LOG_RESERVE_BYTES, `backlog ${backlogBytes} bytes`);
  assert.ok(dropped > lines / 2, `${dropped} of ${lines} lines dropped`);

  // The reader comes back: "draining" overtakes the queued access lines, the drop count follows.
  let seen = readAvailable(reader);
  const inPipe = seen.split('\n').filter(Boolean).length;
  for (let i = 0; i < 200 && !seen.includes('log_lines_dropped'); i++) {
    await sleep(10);
    seen += readAvailable(reader);
  }
  const after = seen.split('\n').filter(Boolean).slice(inPipe);
  assert.match(after[0] ?? '', /"event":"draining"/, 'the draining line went before the queued access lines');
  assert.ok(seen.includes(`"dropped":${dropped}`), `the report says ${dropped}: ${reports.join(',')}`);
  assert.equal(reports.reduce((a, b) => a + b, 0), dropped);
  for (let i = 0; i < 200 && writer.counts.backlogBytes > 0; i++) {
    await sleep(10);
    seen += readAvailable(reader);
  }
  const accessSeen = seen.split('\n').filter((l) => l.includes('"event":"access"')).length;
  assert.equal(accessSeen + dropped, lines, 'every access line was either written or counted as dropped');
});

test('a pipe whose reader is gone (EPIPE): every later line is counted as dropped, nothing throws', async (t) => {
  const { reader, writerFd } = await openPipe(t);
  closeSync(reader);
  const writer = new LogWriter(writerFd);
  for (let i = 0; i < 10; i++) writer.write(accessLine(i));
  await writer.flushWithin(100);
  assert.deepEqual(writer.counts, { dropped: 10, backlogBytes: 0 });
});
