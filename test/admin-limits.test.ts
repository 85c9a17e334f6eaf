// The bounds that keep a hostile or broken admin client from stalling or exhausting the proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import {
  COMMAND_READ_TIMEOUT_MS,
  DEFAULT_ADMIN_LIMITS,
  MAX_ADMIN_CONNECTIONS,
  MAX_LINE_BYTES,
  MAX_PROMPT_SESSIONS,
  PROMPT_IDLE_TIMEOUT_MS,
  REPLY_WRITE_TIMEOUT_MS,
  WORKER_REPLY_TIMEOUT_MS,
} from '../src/admin/limits.ts';
import { exchange, startTestSocket } from './admin-fixture.ts';
import { seededRandom } from './helpers/seeded-random.ts';

const STATUS_OK = '{"status":"ok","uptime_secs":62,"sites":2}\n';

/** Opens a connection and waits until it is accepted; the caller writes (or stays silent). */
async function open(path: string): Promise<{ socket: Socket; reply: Promise<string> }> {
  const socket = connect(path);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const reply = once(socket, 'close').then(() => Buffer.concat(chunks).toString());
  await once(socket, 'connect');
  return { socket, reply };
}

test('the documented limits have the documented values', () => {
  assert.equal(MAX_LINE_BYTES, 4096);
  assert.equal(COMMAND_READ_TIMEOUT_MS, 5_000);
  assert.ok(MAX_ADMIN_CONNECTIONS >= 200, 'room for 200 concurrent clients');
  assert.ok(MAX_PROMPT_SESSIONS < MAX_ADMIN_CONNECTIONS / 4, 'interactive sessions cannot take most slots');
  assert.ok(PROMPT_IDLE_TIMEOUT_MS > 0 && REPLY_WRITE_TIMEOUT_MS > 0 && WORKER_REPLY_TIMEOUT_MS > 0);
  assert.deepEqual(DEFAULT_ADMIN_LIMITS, {
    maxConnections: MAX_ADMIN_CONNECTIONS,
    maxPromptSessions: MAX_PROMPT_SESSIONS,
    commandReadTimeoutMs: COMMAND_READ_TIMEOUT_MS,
    promptIdleTimeoutMs: PROMPT_IDLE_TIMEOUT_MS,
    replyWriteTimeoutMs: REPLY_WRITE_TIMEOUT_MS,
    workerReplyTimeoutMs: WORKER_REPLY_TIMEOUT_MS,
  });
});

test(`a silent client is answered and closed after ${COMMAND_READ_TIMEOUT_MS} ms while status keeps answering others`, async () => {
  const t = await startTestSocket();
  try {
    const silent = await open(t.path);
    const trickle = await open(t.path);
    trickle.socket.write('sta'); // a partial line does not extend the deadline
    const started = Date.now();
    while (Date.now() - started < 1_000) assert.equal(await exchange(t.path, 'status\n'), STATUS_OK);
    const expected = `{"status":"error","message":"no complete command line within ${COMMAND_READ_TIMEOUT_MS} ms"}\n`;
    assert.equal(await silent.reply, expected);
    assert.equal(await trickle.reply, expected);
  } finally {
    await t.close();
  }
});

test('at the connection limit, the oldest client still silent is closed to make room', async () => {
  const t = await startTestSocket({ limits: { maxConnections: 4 } });
  try {
    const silent = await Promise.all([open(t.path), open(t.path), open(t.path), open(t.path)]);
    assert.equal(await exchange(t.path, 'status\n'), STATUS_OK, 'a probe still gets through');
    assert.equal(await silent[0]!.reply, '{"status":"error","message":"too many admin connections (limit 4); try again"}\n');
    for (const s of silent) s.socket.destroy();
  } finally {
    await t.close();
  }
});

test('when every slot is busy, new clients are answered with an error and closed, never reset', async () => {
  const t = await startTestSocket({ limits: { maxConnections: 4 } });
  let release!: () => void;
  t.backend.reloadGate = new Promise<void>((resolve) => (release = resolve));
  try {
    const reloads = [1, 2, 3, 4].map(() => exchange(t.path, 'reload\n'));
    while (t.backend.reloadCalls < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    // Many refused at once, their command still unread when the server answers: closing with
    // unread input would make the kernel reset the connection and lose the reply.
    const refused = await Promise.allSettled(Array.from({ length: 100 }, () => exchange(t.path, 'status\n')));
    for (const outcome of refused) {
      assert.equal(outcome.status, 'fulfilled', `a refused client was reset: ${outcome.status === 'rejected' ? String(outcome.reason) : ''}`);
      assert.equal(outcome.value, '{"status":"error","message":"too many admin connections (limit 4); try again"}\n');
    }
    release();
    assert.deepEqual(await Promise.all(reloads), Array(4).fill('{"status":"ok"}\n'));
    assert.equal(await exchange(t.path, 'status\n'), STATUS_OK, 'slots are free again');
    assert.ok(t.logs().some((l) => l.event === 'admin_connection_refused'));
  } finally {
    release();
    await t.close();
  }
});

test('a burst far over the limit: every client reads a reply or the error line, none is reset', async () => {
  const t = await startTestSocket({ limits: { maxConnections: 4 } });
  try {
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => exchange(t.path, 'status\n')));
    const tooMany = '{"status":"error","message":"too many admin connections (limit 4); try again"}\n';
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'fulfilled', `a client was reset: ${outcome.status === 'rejected' ? String(outcome.reason) : ''}`);
      assert.ok(outcome.value === STATUS_OK || outcome.value === tooMany, `unexpected reply ${JSON.stringify(outcome.value)}`);
    }
  } finally {
    await t.close();
  }
});

test('200 concurrent clients are all served', async () => {
  const t = await startTestSocket();
  try {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => exchange(t.path, i % 2 === 0 ? 'status\n' : 'show info json\n')));
    for (const [i, reply] of replies.entries()) {
      if (i % 2 === 0) assert.equal(reply, STATUS_OK);
      else assert.equal((JSON.parse(reply) as { name: string }).name, 'reverse-proxy');
    }
  } finally {
    await t.close();
  }
});

test(`interactive sessions are limited per socket (${MAX_PROMPT_SESSIONS} by default)`, async () => {
  const t = await startTestSocket({ limits: { maxPromptSessions: 2 } });
  try {
    const a = await open(t.path);
    const b = await open(t.path);
    a.socket.write('prompt\n');
    b.socket.write('prompt\n');
    await Promise.all([once(a.socket, 'data'), once(b.socket, 'data')]);
    assert.equal(await exchange(t.path, 'prompt\n'), '{"status":"error","message":"too many interactive sessions on this socket; try again later"}\n');
    a.socket.end('quit\n');
    await a.reply;
    assert.equal(await exchange(t.path, 'prompt\nquit\n'), 'master> ', 'a slot is free again after quit');
    b.socket.destroy();
  } finally {
    await t.close();
  }
});

test('an idle interactive session is closed', async () => {
  const t = await startTestSocket({ limits: { promptIdleTimeoutMs: 200 } });
  try {
    const session = await open(t.path);
    session.socket.write('prompt\nstatus\n');
    assert.equal(await session.reply, `master> ${STATUS_OK}master> `);
  } finally {
    await t.close();
  }
});

test('an interactive client that never reads its replies is cut off, not buffered for', async () => {
  const t = await startTestSocket({ limits: { promptIdleTimeoutMs: 300 } });
  try {
    const socket = connect(t.path);
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.pause(); // never read
    const flood = Buffer.from('prompt\n' + 'show info\n'.repeat(200_000));
    const closed = new Promise((resolve) => socket.on('close', resolve)); // EPIPE on our side is expected
    socket.write(flood);
    await closed;
  } finally {
    await t.close();
  }
});

test('a worker that does not answer a routed command gets a timeout error', async () => {
  const t = await startTestSocket({ limits: { workerReplyTimeoutMs: 100 } });
  t.backend.sendToWorker = () => new Promise<string>(() => {});
  try {
    assert.equal(await exchange(t.path, '@1 show info\n'), '{"status":"error","message":"process @1 did not answer within 100 ms"}\n');
  } finally {
    await t.close();
  }
});


test('10 000 random inputs never crash the socket and always get a well-formed answer', async () => {
  const t = await startTestSocket();
  const random = seededRandom(0x5eed);
  const words = ['status', 'reload', 'restart', 'show', 'proc', 'info', 'json', 'cli', 'sockets', 'sites', 'help', 'prompt', 'quit', '@', '@1', '@2', '@!0', '@master', '@!900001', ';', '\r', '\n', ' ', '\t', '\0', 'é', '\u2028'];
  const input = (): Buffer => {
    const pick = random();
    if (pick < 0.3) return Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
    if (pick < 0.35) return Buffer.alloc(MAX_LINE_BYTES + Math.floor(random() * 10) - 5, 0x61);
    const n = 1 + Math.floor(random() * 8);
    return Buffer.from(Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(random() < 0.5 ? ' ' : ''));
  };
  try {
    const total = 10_000;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next++;
        const payload = input();
        const reply = await exchange(t.path, payload);
        // Every reply is made of whole lines, or a prompt, or nothing after `quit`.
        assert.ok(reply === '' || reply.endsWith('\n') || reply.endsWith('> '), `reply to ${payload.toString('hex')}: ${JSON.stringify(reply)}`);
        for (const line of reply.split('\n')) {
          if (line.startsWith('{')) assert.doesNotThrow(() => JSON.parse(line), line);
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    assert.equal(await exchange(t.path, 'status\n'), STATUS_OK, 'still healthy');
  } finally {
    await t.close();
  }
});
