// A worker's memory is mostly what it loads, and every full GC walks that heap again. These
// guard the two loads that cost the most and that an innocent-looking import brings back:
// undici's package index (fetch, WebSocket, cache, mocks) and Node's bundled undici, which an ES
// `import … from 'node:http'` pulls in (src/node-http.ts). bench/ measures the effect in MB.
// The rest checks the young-generation flag every process of ours starts with.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { SMALL_YOUNG_GENERATION_FLAG, workerExecArgv } from '../src/runtime/worker-flags.ts';
import { loadedModules } from './helpers/loaded-modules.ts';

test('the worker entry loads undici Pool from its own file, not the package index, and no Node-bundled undici', async () => {
  // Without an IPC channel the worker registers its handlers and exits: its imports are all loaded.
  const { code, stderr, resolved, internal } = await loadedModules(new URL('../src/runtime/worker-main.ts', import.meta.url).href);
  assert.equal(code, 0, stderr);
  assert.ok(resolved.some((url) => url.endsWith('/src/proxy/server.ts')), 'the proxy server was loaded');
  assert.ok(resolved.some((url) => url.endsWith('/node_modules/undici/lib/dispatcher/pool.js')), 'undici Pool was loaded');
  assert.deepEqual(resolved.filter((url) => url.endsWith('/node_modules/undici/index.js')), []);
  assert.deepEqual(resolved.filter((url) => /\/node_modules\/(zod|smol-toml|chokidar|@kubernetes)\//.test(url)), []);
  assert.ok(internal.includes('NativeModule http'), 'node:http itself is loaded');
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
