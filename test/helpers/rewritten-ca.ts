// A CA file that never reads the same twice, named by many sites: for the snapshot reader's
// last resort (src/config/snapshot.ts), files that keep changing between every two reads.
// Each site names the CA through its own symlink, so one pass reads many files and the two
// reads of any of them lie far apart, while one writer thread changes them all.
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createCa } from './tls.ts';

/** Sites, each naming the CA by its own path. */
export const CA_REFERENCES = 64;

export interface Rewriter {
  /** Stops the writer and resolves with how many rewrites it made. */
  stop(): Promise<number>;
}

export interface RewrittenCa {
  /** `[[sites]]` tables `site-<i>.test`, each with `tls_ca_file = "<dir>/ca-<i>.pem"`. */
  sites: string;
  /**
   * Rewrites the CA in place every few hundred µs from another thread, and resolves once the
   * first rewrite is done: same size, a new counter each time, the modification time put back
   * to an hour ago. Each read of the file alone looks stable (same inode, size and mtime before
   * and after), but two reads a pass apart get different bytes: a pass over CA_REFERENCES files
   * lasts several rewrites. Stopped by `stop` or at the end of `t`.
   */
  startRewriting(t: TestContext): Promise<Rewriter>;
}

/**
 * Between rewrites the thread sleeps: a thread that spins uses up its share of a busy machine's
 * CPU and is then held back for tens of milliseconds, long enough for two reads to meet no write;
 * a sleeper is woken promptly.
 */
const REWRITE_PAUSE_MS = 0.2;

const WRITER = `const pause = new Int32Array(new SharedArrayBuffer(4));
const { closeSync, futimesSync, openSync, writeSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const fd = openSync(workerData.file, 'r+');
const old = new Date(Date.now() - 3_600_000);
let n = 0;
while (Atomics.load(workerData.stop, 0) === 0) {
  const text = Buffer.from(workerData.base + '# rewrite ' + String(++n % 1e9).padStart(9, '0') + '\\n');
  writeSync(fd, text, 0, text.length, 0);
  futimesSync(fd, old, old);
  if (n === 1) parentPort.postMessage('writing');
  Atomics.wait(pause, 0, 0, ${REWRITE_PAUSE_MS});
}
closeSync(fd);
parentPort.postMessage(n);`;

/** Writes `<dir>/ca.pem` (a real CA) and the CA_REFERENCES symlinks `<dir>/ca-<i>.pem` to it. */
export async function rewrittenCa(dir: string): Promise<RewrittenCa> {
  const caFile = join(dir, 'ca.pem');
  const base = (await createCa(dir)).cert.toString();
  await writeFile(caFile, `${base}# rewrite ${'0'.padStart(9, '0')}\n`);
  let sites = '';
  for (let i = 0; i < CA_REFERENCES; i++) {
    await symlink(caFile, join(dir, `ca-${i}.pem`));
    sites += `[[sites]]\nhost = "site-${i}.test"\nupstream = "https://127.0.0.1:1"\ntls_ca_file = "${join(dir, `ca-${i}.pem`)}"\n\n`;
  }
  const startRewriting = async (t: TestContext): Promise<Rewriter> => {
    const stopFlag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WRITER, { eval: true, workerData: { file: caFile, base, stop: stopFlag } });
    const { promise: writing, resolve: markWriting } = Promise.withResolvers<void>();
    const done = new Promise<number>((resolve, reject) => {
      worker.on('message', (message: unknown) => (message === 'writing' ? markWriting() : resolve(message as number)));
      worker.once('error', reject);
    });
    const stop = () => {
      Atomics.store(stopFlag, 0, 1);
      return done;
    };
    t.after(stop);
    await Promise.race([writing, done]);
    return { stop };
  };
  return { sites, startRewriting };
}
