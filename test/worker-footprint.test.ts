// A worker's memory is mostly what it loads, and every full GC walks that heap again. The
// worker's request path is our own HTTP/1.1 engine over net and tls; these guard against an
// innocent-looking import bringing node:http (and with an ES import of it, Node's bundled
// undici) or undici itself back into the worker. bench/ measures the effect in MB.
// The rest checks the young-generation flag every process of ours starts with.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { SMALL_YOUNG_GENERATION_FLAG, workerExecArgv } from '../src/runtime/worker-flags.ts';
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

test('workers get a 1 MB young generation on top of the master flags', () => {
  assert.deepEqual(workerExecArgv([], undefined), [SMALL_YOUNG_GENERATION_FLAG]);
  assert.deepEqual(workerExecArgv(['--inspect=0', '--max-old-space-size=256'], '--enable-source-maps'), [SMALL_YOUNG_GENERATION_FLAG, '--inspect=0', '--max-old-space-size=256']);
});

test("an operator's own semi-space size, on the command line or in NODE_OPTIONS, is kept instead", () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=32'], undefined), ['--max-semi-space-size=32']);
  assert.deepEqual(workerExecArgv(['--min_semi_space_size=4'], ''), ['--min_semi_space_size=4']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --max-semi-space-size=8'), []);
});

test('the published entry starts the master (and ctl, reloader) with the same small young generation', async () => {
  const [shebang] = (await readFile(new URL('../bin/reverse-proxy.js', import.meta.url), 'utf8')).split('\n');
  assert.equal(shebang, `#!/usr/bin/env -S node ${SMALL_YOUNG_GENERATION_FLAG}`);
});
