// The process logger never holds a process that wants to exit: with its stdout reader gone
// (EPIPE), two lines logged back to back and process.exit() still end the process at once.
// pino's default destination retried the failed write every 100 ms forever (issue 12 item 4).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const LOG_MODULE = pathToFileURL(join(import.meta.dirname, '..', 'src', 'log.ts')).href;

test('a process whose stdout and stderr readers died exits when it calls process.exit', async () => {
  const script = `
    import { createLogger } from ${JSON.stringify(LOG_MODULE)};
    const logger = createLogger({ level: 'info', component: 'test' });
    setTimeout(() => {
      logger.info({ event: 'one' }, 'one');
      logger.info({ event: 'two' }, 'two');
      process.exit(0);
    }, 300);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  child.stderr.destroy();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(timer);
  assert.deepEqual([code, signal], [0, null], 'exited by itself, not killed after 10 s');
});
