// A worker's memory is mostly what it loads, and every full GC walks that heap again. The
// worker's request path is our own HTTP/1.1 engine over net and tls; these guard against an
// innocent-looking import bringing node:http (and with an ES import of it, Node's bundled
// undici) or undici itself back into the worker. bench/ measures the effect in MB.
// The rest checks the GC flags every process of ours starts with.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ENTRY_FLAGS_VARIABLE, SMALL_YOUNG_GENERATION_FLAG, WORKER_GC_FLAGS, workerExecArgv } from '../src/runtime/worker-flags.ts';
import { loadedModules } from './helpers/loaded-modules.ts';

test('the worker entry loads neither node:http nor undici: its data path is src/proxy/http1/ over net and tls', async () => {
  // Without an IPC channel the worker registers its handlers and exits: its imports are all loaded.
  const { code, stderr, resolved, internal } = await loadedModules(new URL('../src/runtime/worker-main.ts', import.meta.url).href);
  assert.equal(code, 0, stderr);
  assert.ok(resolved.some((url) => url.endsWith('/src/proxy/server.ts')), 'the proxy server was loaded');
  assert.ok(resolved.some((url) => url.endsWith('/src/proxy/http1/connection.ts')), 'the HTTP/1.1 engine was loaded');
  assert.deepEqual(resolved.filter((url) => url.includes('/node_modules/undici/')), []);
  assert.deepEqual(resolved.filter((url) => /\/node_modules\/(zod|smol-toml|chokidar|@kubernetes)\//.test(url)), []);
  assert.deepEqual(internal.filter((m) => m === 'NativeModule http' || m === 'NativeModule https' || m.startsWith('NativeModule _http_')), []);
  assert.deepEqual(internal.filter((m) => m.includes('undici')), []);
});

test('workers get their GC flags before the master flags, less the flags the published entry added for the master', () => {
  assert.deepEqual(workerExecArgv([], undefined, undefined), [...WORKER_GC_FLAGS]);
  assert.deepEqual(workerExecArgv(['--inspect=0', '--max-old-space-size=256'], '--enable-source-maps', undefined), [...WORKER_GC_FLAGS, '--inspect=0', '--max-old-space-size=256']);
  // What bin/reverse-proxy.js's shebang hands the master: its flag, and the variable naming it.
  assert.deepEqual(workerExecArgv([SMALL_YOUNG_GENERATION_FLAG], undefined, SMALL_YOUNG_GENERATION_FLAG), [...WORKER_GC_FLAGS]);
  assert.deepEqual(workerExecArgv([SMALL_YOUNG_GENERATION_FLAG, '--inspect=0'], undefined, SMALL_YOUNG_GENERATION_FLAG), [...WORKER_GC_FLAGS, '--inspect=0']);
});

test("an operator's own semi-space size or scavenger choice, on the command line or in NODE_OPTIONS, is kept instead", () => {
  const [, noParallelScavenge] = WORKER_GC_FLAGS;
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=32'], undefined, undefined), [noParallelScavenge, '--max-semi-space-size=32']);
  assert.deepEqual(workerExecArgv(['--min_semi_space_size=4'], '', undefined), [noParallelScavenge, '--min_semi_space_size=4']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --max-semi-space-size=8', undefined), [noParallelScavenge]);
  // The same flag as the entry's, typed by an operator (no variable names it): theirs.
  assert.deepEqual(workerExecArgv([SMALL_YOUNG_GENERATION_FLAG], undefined, undefined), [noParallelScavenge, SMALL_YOUNG_GENERATION_FLAG]);
  // Under the entry's flag, an operator's own size on top of it still counts.
  assert.deepEqual(workerExecArgv([SMALL_YOUNG_GENERATION_FLAG, '--max-semi-space-size=2'], undefined, SMALL_YOUNG_GENERATION_FLAG), [noParallelScavenge, '--max-semi-space-size=2']);
  assert.deepEqual(workerExecArgv(['--parallel-scavenge'], undefined, undefined), [WORKER_GC_FLAGS[0], '--parallel-scavenge']);
  assert.deepEqual(workerExecArgv([], '--single-threaded-gc', undefined), [WORKER_GC_FLAGS[0]]);
});

test('the published entry starts the master (and ctl, reloader) with the small young generation, and names it as its own', async () => {
  const [shebang] = (await readFile(new URL('../bin/reverse-proxy.js', import.meta.url), 'utf8')).split('\n');
  assert.equal(shebang, `#!/usr/bin/env -S ${ENTRY_FLAGS_VARIABLE}=${SMALL_YOUNG_GENERATION_FLAG} node ${SMALL_YOUNG_GENERATION_FLAG}`);
});
