// The reloader's reading of admin replies: what counts as a usable `show info json` and a
// seed-000 `reload` reply, and what is a protocol error (AdminReplyError, code ERR_ADMIN_REPLY).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminReplyError } from '../src/errors.ts';
import { parseInfoReply, parseReloadReply } from '../src/reloader/proxy-admin.ts';

const SHA = 'ab'.repeat(32);

test('show info json: the running hash, generation and config file', () => {
  const info = parseInfoReply(`${JSON.stringify({ name: 'reverse-proxy', config_file: '/etc/reverse-proxy/config.toml', config_sha256: SHA, generation: 7, reloads: 6 })}\n`);
  assert.deepEqual(info, { config_file: '/etc/reverse-proxy/config.toml', config_sha256: SHA, generation: 7 });
});

test('show info json: an error reply, a missing or malformed hash, or non-JSON is a protocol error', () => {
  for (const reply of ['{"status":"error","message":"unknown command: show info json"}\n', '{"config_sha256":"abc"}\n', 'Name: reverse-proxy\n', '', '[1]']) {
    assert.throws(() => parseInfoReply(reply), (err: unknown) => err instanceof AdminReplyError && err.code === 'ERR_ADMIN_REPLY', JSON.stringify(reply));
  }
});

test('reload: ok (with warnings), error with the proxy\'s message, anything else a protocol error', () => {
  assert.deepEqual(parseReloadReply('{"status":"ok"}\n'), { ok: true, warnings: [] });
  assert.deepEqual(parseReloadReply('{"status":"ok","warnings":["workers changed: needs a restart"]}\n'), { ok: true, warnings: ['workers changed: needs a restart'] });
  assert.deepEqual(parseReloadReply('{"status":"error","message":"config.toml:3: bad"}\n'), { ok: false, message: 'config.toml:3: bad' });
  assert.throws(() => parseReloadReply('{"status":"maybe"}'), AdminReplyError);
  assert.throws(() => parseReloadReply(''), AdminReplyError);
});
