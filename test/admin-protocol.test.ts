// The seed 000 wire contract, byte for byte, over a real Unix socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { MAX_LINE_BYTES } from '../src/admin/limits.ts';
import { ConfigInvalidError } from '../src/errors.ts';
import { exchange, startTestSocket, type TestSocket } from './admin-fixture.ts';

const INVALID = '{"status":"error","message":"invalid input"}\n';
let t: TestSocket;
before(async () => {
  t = await startTestSocket();
});
after(async () => {
  await t.close();
});

test('status answers uptime and site count as integers', async () => {
  assert.equal(await exchange(t.path, 'status\n'), '{"status":"ok","uptime_secs":62,"sites":2}\n');
});

test('reload answers exactly {"status":"ok"} and reaches the backend', async () => {
  const before = t.backend.reloadCalls;
  assert.equal(await exchange(t.path, 'reload\n'), '{"status":"ok"}\n');
  assert.equal(t.backend.reloadCalls, before + 1);
});

test('reload carries warnings only when there are some', async () => {
  t.backend.nextReload = { ok: true, warnings: ['workers changed: takes effect on restart'] };
  try {
    assert.equal(await exchange(t.path, 'reload\n'), '{"status":"ok","warnings":["workers changed: takes effect on restart"]}\n');
  } finally {
    t.backend.nextReload = { ok: true, warnings: [] };
  }
});

test('a failed reload answers the error form with the message', async () => {
  const problem = new ConfigInvalidError('/etc/rp.toml', [{ key: 'sites[0].upstream', line: 4, message: 'must use http://' }]);
  t.backend.nextReload = { ok: false, message: problem.message };
  try {
    assert.equal(
      await exchange(t.path, 'reload\n'),
      '{"status":"error","message":"/etc/rp.toml:4: sites[0].upstream: must use http://"}\n',
    );
  } finally {
    t.backend.nextReload = { ok: true, warnings: [] };
  }
});

test('status answers an error while draining, so a readiness probe fails', async () => {
  t.backend.draining = true;
  try {
    assert.equal(await exchange(t.path, 'status\n'), '{"status":"error","message":"shutting down"}\n');
  } finally {
    t.backend.draining = false;
  }
});

test('unknown commands are named in the error', async () => {
  assert.equal(await exchange(t.path, 'frobnicate\n'), '{"status":"error","message":"unknown command: frobnicate"}\n');
  assert.equal(await exchange(t.path, 'STATUS\n'), '{"status":"error","message":"unknown command: STATUS"}\n');
  assert.equal(await exchange(t.path, 'status now\n'), '{"status":"error","message":"unknown command: status now"}\n');
  assert.equal(await exchange(t.path, 'say "hi"\n'), '{"status":"error","message":"unknown command: say \\"hi\\""}\n');
});

test('CRLF, surrounding blanks and a missing final newline are tolerated', async () => {
  const ok = '{"status":"ok","uptime_secs":62,"sites":2}\n';
  assert.equal(await exchange(t.path, 'status\r\n'), ok);
  assert.equal(await exchange(t.path, '  status \t\n'), ok);
  assert.equal(await exchange(t.path, 'status'), ok);
});

test('only the first line is a command: one command per connection', async () => {
  const before = t.backend.reloadCalls;
  assert.equal(await exchange(t.path, 'status\nreload\n'), '{"status":"ok","uptime_secs":62,"sites":2}\n');
  assert.equal(t.backend.reloadCalls, before);
});

test('empty and blank input is invalid input', async () => {
  for (const input of ['\n', '\r\n', '   \n', '\t\n', '', ';\n', ' ; ; \n']) {
    assert.equal(await exchange(t.path, input), INVALID, JSON.stringify(input));
  }
});

test('binary and non-UTF-8 input is invalid input', async () => {
  const inputs = [
    Buffer.from([0xff, 0xfe, 0x0a]),
    Buffer.from([0x73, 0x74, 0x00, 0x61, 0x0a]), // NUL inside "st\0a"
    Buffer.from([0xc3, 0x28, 0x0a]), // broken two-byte sequence
    Buffer.from([0xed, 0xa0, 0x80, 0x0a]), // UTF-16 surrogate encoded as UTF-8
    Buffer.from('status\x1b[A\n'),
    Buffer.from('sta\rtus\n'),
    Buffer.from('status\x7f\n'),
  ];
  for (const input of inputs) assert.equal(await exchange(t.path, input), INVALID, input.toString('hex'));
});

test(`a line of exactly ${MAX_LINE_BYTES} bytes is read; one byte more is invalid input`, async () => {
  const atLimit = 'x'.repeat(MAX_LINE_BYTES);
  assert.equal(await exchange(t.path, `${atLimit}\n`), `{"status":"error","message":"unknown command: ${atLimit}"}\n`);
  assert.equal(await exchange(t.path, `${atLimit}\r\n`), `{"status":"error","message":"unknown command: ${atLimit}"}\n`);
  assert.equal(await exchange(t.path, `${atLimit}x\n`), INVALID);
  // Multi-byte characters count in bytes, not characters.
  assert.equal(await exchange(t.path, `${'é'.repeat(MAX_LINE_BYTES / 2)}x\n`), INVALID);
});

test('an endless line without a newline is cut off at the limit, not buffered', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(t.path);
    const chunks: Buffer[] = [];
    let written = 0;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {}); // we may still be writing when the server closes
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    const junk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!socket.destroyed && written < 64 * 1024 * 1024) {
        written += junk.length;
        if (!socket.write(junk)) return void socket.once('drain', pump);
      }
      reject(new Error('server kept reading 64 MiB without a newline'));
    };
    socket.on('connect', pump);
  });
  assert.equal(reply, INVALID);
});

test('the reply is written then the server closes, even if the client never half-closes', async () => {
  const reply = await exchange(t.path, 'status\n', { keepOpen: true, timeoutMs: 3_000 });
  assert.equal(reply, '{"status":"ok","uptime_secs":62,"sites":2}\n');
});

test('an internal failure in the backend is reported without its details', async () => {
  const original = t.backend.status;
  t.backend.status = () => {
    throw new Error('ENOENT /secret/internal/path at Object.<anonymous>');
  };
  try {
    assert.equal(await exchange(t.path, 'status\n'), '{"status":"error","message":"internal error (see the proxy log)"}\n');
    const logged = t.logs().find((l) => l.event === 'admin_command_failed');
    assert.ok(logged, 'the failure is in the log');
  } finally {
    t.backend.status = original;
  }
});

test('a reload in progress does not delay status for other clients', async () => {
  let release!: () => void;
  t.backend.reloadGate = new Promise<void>((resolve) => (release = resolve));
  try {
    const pendingReload = exchange(t.path, 'reload\n');
    for (let i = 0; i < 5; i++) assert.equal(await exchange(t.path, 'status\n'), '{"status":"ok","uptime_secs":62,"sites":2}\n');
    release();
    assert.equal(await pendingReload, '{"status":"ok"}\n');
  } finally {
    release();
    t.backend.reloadGate = undefined;
  }
});

test('a backend that throws while a target is resolved does not take the socket down', async () => {
  const original = t.backend.processes;
  t.backend.processes = () => {
    throw new TypeError('cannot read properties of undefined');
  };
  try {
    assert.equal(await exchange(t.path, '@1 status\n'), '{"status":"error","message":"internal error (see the proxy log)"}\n');
    assert.equal(await exchange(t.path, 'prompt\nshow proc\nquit\n'), 'master> {"status":"error","message":"internal error (see the proxy log)"}\nmaster> ');
  } finally {
    t.backend.processes = original;
  }
  assert.equal(await exchange(t.path, 'status\n'), '{"status":"ok","uptime_secs":62,"sites":2}\n');
});
