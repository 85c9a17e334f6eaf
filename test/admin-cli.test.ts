// The HAProxy-style master CLI on the admin socket: help per level, show commands, routing,
// `;` chains, prompt mode and permissions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { formatProcessTable, formatUptime } from '../src/admin/format.ts';
import { runWorkerCommand } from '../src/admin/worker-commands.ts';
import { ReverseProxyError } from '../src/errors.ts';
import { exchange, startTestSocket, TestMaster, VERSION, type TestSocket } from './admin-fixture.ts';

const STATUS_OK = '{"status":"ok","uptime_secs":62,"sites":2}\n';
let admin: TestSocket;
let operator: TestSocket;
let user: TestSocket;
before(async () => {
  admin = await startTestSocket({ level: 'admin' });
  operator = await startTestSocket({ level: 'operator' });
  user = await startTestSocket({ level: 'user' });
});
after(async () => {
  await Promise.all([admin.close(), operator.close(), user.close()]);
});

test('help lists exactly the commands of the socket level', async () => {
  const userHelp = await exchange(user.path, 'help\n');
  assert.equal(
    userHelp,
    [
      'The following commands are valid at this level:',
      '  help [<command>]                      : list the commands valid at this level, or describe one',
      '  prompt                                : toggle interactive mode with prompt',
      '  quit                                  : disconnect',
      '  status                                : readiness as JSON: uptime and sites, an error while draining',
      '  show proc                             : show processes status',
      '  show info                             : report information about the master process',
      '  show info json                        : the same as one JSON object',
      '  show version                          : the version of this reverse-proxy',
      '  show cli sockets                      : dump list of cli sockets',
      '  show sites                            : routing table of the first live worker',
      '  show stat                             : traffic per site and server since the last reload, all workers (CSV)',
      '  show stat json                        : the same as one JSON array',
      '  show servers                          : every upstream group and server: health, admin state, weight, last check',
      '  show certs                            : certificates in use: names, expiry, fingerprint, file',
      '  show certs json                       : the same as one JSON array',
      '  @<relative pid>                       : send a command to the <relative pid> process',
      '  @!<pid>                               : send a command to the <pid> process',
      '  @master                               : send a command to the master process',
      '',
    ].join('\n'),
  );
  const operatorHelp = await exchange(operator.path, 'help\n');
  assert.match(operatorHelp, /^ {2}reload +: /m);
  assert.doesNotMatch(operatorHelp, /^ {2}restart/m);
  const adminHelp = await exchange(admin.path, 'help\n');
  assert.match(adminHelp, /^ {2}reload +: /m);
  assert.match(adminHelp, /^ {2}restart +: /m);
});

test('levels: reload needs operator, restart needs admin', async () => {
  assert.equal(await exchange(user.path, 'reload\n'), '{"status":"error","message":"permission denied: \\"reload\\" needs level operator, this socket is level user"}\n');
  assert.equal(await exchange(user.path, 'restart\n'), '{"status":"error","message":"permission denied: \\"restart\\" needs level admin, this socket is level user"}\n');
  assert.equal(await exchange(operator.path, 'restart\n'), '{"status":"error","message":"permission denied: \\"restart\\" needs level admin, this socket is level operator"}\n');
  assert.equal(user.backend.reloadCalls + user.backend.restartCalls + operator.backend.restartCalls, 0, 'nothing reached the backend');
  assert.equal(await exchange(operator.path, 'reload\n'), '{"status":"ok"}\n');
  assert.equal(await exchange(admin.path, 'restart\n'), '{"status":"ok"}\n');
  assert.equal(admin.backend.restartCalls, 1);
  // Read-only commands and routing work at every level.
  assert.equal(await exchange(user.path, 'status\n'), STATUS_OK);
  assert.match(await exchange(user.path, '@1 show info\n'), /^Process_type: worker$/m);
});

test('show proc: HAProxy columns, master first, then every worker', async () => {
  const reply = await exchange(admin.path, 'show proc\n');
  const lines = reply.split('\n');
  assert.equal(lines[0], '#<PID>          <type>          <relative PID>  <reloads>       <uptime>        <version>');
  assert.match(lines[1]!, new RegExp(`^${process.pid} +master +0 +\\d+ +0d00h01m0[23]s +${VERSION}$`));
  assert.match(lines[2]!, new RegExp(`^900001 +worker +1 +\\d+ +0d00h00m0\\ds +${VERSION}$`));
  assert.match(lines[3]!, new RegExp(`^900002 +worker +2 +`));
  assert.equal(lines.length, 5);
  assert.equal(lines[4], '');
});

test('show proc makes respawning and crash-looping worker slots visible', () => {
  const now = 1_000_000_000_000;
  const rows = [
    { pid: 11, type: 'worker' as const, relativePid: 1, reloads: 2, startedAt: now - 3_723_000, version: '1.0.0', respawns: 3 },
    { pid: 0, type: 'worker' as const, relativePid: 2, reloads: 0, startedAt: now, version: '1.0.0', respawns: 5, respawningInMs: 1999.2 },
    { pid: 10, type: 'master' as const, relativePid: 0, reloads: 7, startedAt: now - 90_061_000, version: '1.0.0', respawns: 0 },
  ];
  assert.equal(
    formatProcessTable(rows, now),
    [
      '#<PID>          <type>          <relative PID>  <reloads>       <uptime>        <version>',
      '10              master          0               7               1d01h01m01s     1.0.0',
      '11              worker          1               2               0d01h02m03s     1.0.0           [respawns: 3]',
      '-               worker          2               0               -               1.0.0           [respawning in 2000 ms, respawns: 5]',
      '',
    ].join('\n'),
  );
  assert.equal(formatUptime(0), '0d00h00m00s');
  assert.equal(formatUptime(62.9), '0d00h01m02s');
});

test('show info is Key: value text, show info json is the same fields as one JSON line', async () => {
  const text = await exchange(admin.path, 'show info\n');
  const json = JSON.parse(await exchange(admin.path, 'show info json\n')) as Record<string, unknown>;
  assert.deepEqual(json, admin.backend.info());
  const expected = Object.entries(json).map(([k, v]) => `${k[0]!.toUpperCase()}${k.slice(1)}: ${v ?? ''}\n`).join('');
  assert.equal(text, expected);
  assert.match(text, /^Config_sha256: a{64}$/m);
  assert.match(text, /^Last_reload: $/m, 'null prints as an empty value');
});

test('show cli sockets lists path, level and octal mode', async () => {
  assert.equal(await exchange(user.path, 'show cli sockets\n'), `# socket lvl mode\n${user.path} user 0660\n`);
});

test('show sites on the master is answered by the first live worker', async () => {
  assert.equal(await exchange(user.path, 'show sites\n'), '# generation 1, 2 site(s)\nexample.com -> http://127.0.0.1:9000\n*.example.org -> http://127.0.0.1:9000\n');
});

test('routing: @N, @!PID and @master, with clear errors for bad targets', async () => {
  assert.match(await exchange(admin.path, '@2 show info\n'), /^Pid: 900002$/m);
  assert.match(await exchange(admin.path, '@!900001 show info\n'), /^Relative_pid: 1$/m);
  assert.match(await exchange(admin.path, `@!${process.pid} show info\n`), /^Process_type: master$/m);
  assert.match(await exchange(admin.path, '@0 show info\n'), /^Process_type: master$/m);
  assert.equal(await exchange(admin.path, '@master status\n'), STATUS_OK);
  assert.equal(await exchange(admin.path, '@1 status\n'), '{"status":"ok","uptime_secs":0,"sites":2}\n');
  assert.equal(await exchange(admin.path, '@!12345 status\n'), '{"status":"error","message":"no such process: @!12345"}\n');
  assert.equal(await exchange(admin.path, '@7 status\n'), '{"status":"error","message":"no such process: @7"}\n');
  assert.equal(await exchange(admin.path, '@!0 status\n'), '{"status":"error","message":"no such process: @!0"}\n');
  assert.equal(await exchange(admin.path, '@foo status\n'), '{"status":"error","message":"no such process: @foo"}\n');
  assert.equal(await exchange(admin.path, '@1 reload\n'), '{"status":"error","message":"unknown command: reload"}\n', 'reload is a master command');
});

test('a worker slot waiting to be respawned answers a clear error', async () => {
  const backend = new TestMaster();
  backend.workers[1]!.respawningInMs = 1500;
  const t = await startTestSocket({ backend });
  try {
    assert.equal(await exchange(t.path, '@2 status\n'), '{"status":"error","message":"process @2 is being respawned (next attempt in 1500 ms)"}\n');
  } finally {
    await t.close();
  }
});

test('several commands separated by ; are answered in order', async () => {
  assert.equal(await exchange(admin.path, 'status;status\n'), STATUS_OK + STATUS_OK);
  assert.equal(
    await exchange(admin.path, ' status ; nope ;@!12345 status; @1 status\n'),
    `${STATUS_OK}{"status":"error","message":"unknown command: nope"}\n{"status":"error","message":"no such process: @!12345"}\n{"status":"ok","uptime_secs":0,"sites":2}\n`,
  );
  // A bare target switches the following commands of the same line.
  assert.equal(await exchange(admin.path, '@1; status; @master; status\n'), `{"status":"ok","uptime_secs":0,"sites":2}\n${STATUS_OK}`);
  // quit stops the line.
  assert.equal(await exchange(admin.path, 'status; quit; status\n'), STATUS_OK);
});

test('prompt mode: master> prompt, a bare @1 switches to 1> , @ back, quit closes', async () => {
  const reply = await exchange(admin.path, 'prompt\n@1\nstatus\n@!900002\n@\nstatus\n\nquit\n', { keepOpen: true });
  assert.equal(reply, `master> 1> {"status":"ok","uptime_secs":0,"sites":2}\n1> !900002> master> ${STATUS_OK}master> master> `);
  // Errors do not end the session; invalid bytes are answered and the session goes on.
  const errors = await exchange(admin.path, Buffer.from('prompt\n@9\nxyz\n\xff\nquit\n', 'latin1'), { keepOpen: true });
  assert.equal(
    errors,
    'master> {"status":"error","message":"no such process: @9"}\nmaster> {"status":"error","message":"unknown command: xyz"}\nmaster> {"status":"error","message":"invalid input"}\nmaster> ',
  );
  // prompt toggles: a second prompt leaves interactive mode and the connection closes.
  assert.equal(await exchange(admin.path, 'prompt\nprompt\nstatus\n', { keepOpen: true }), 'master> ');
  // The client half-closing ends the session too.
  assert.equal(await exchange(admin.path, 'prompt\nstatus\n'), `master> ${STATUS_OK}master> `);
});

test('worker-side commands (what a worker answers when the master routes to it)', () => {
  const master = new TestMaster();
  const worker = master.workers[0]!;
  assert.equal(runWorkerCommand('status', worker), '{"status":"ok","uptime_secs":0,"sites":2}\n');
  assert.equal(runWorkerCommand('show info json', worker), `${JSON.stringify(worker.info())}\n`);
  assert.match(runWorkerCommand('show  info', worker), /^Relative_pid: 1\n/m);
  assert.equal(runWorkerCommand('show sites', worker), '# generation 1, 2 site(s)\nexample.com -> http://127.0.0.1:9000\n*.example.org -> http://127.0.0.1:9000\n');
  assert.match(runWorkerCommand('help', worker), /^The following commands are valid at this level:\n {2}help /);
  assert.equal(runWorkerCommand('show proc', worker), '{"status":"error","message":"unknown command: show proc"}\n');
  assert.equal(runWorkerCommand('  ', worker), '{"status":"error","message":"invalid input"}\n');
  worker.sites = () => {
    throw new Error('secret internals');
  };
  assert.equal(runWorkerCommand('show sites', worker), '{"status":"error","message":"internal error (see the proxy log)"}\n');
});

const socatInstalled = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

test('socat, the way operators use it', { skip: socatInstalled ? false : 'socat is not installed' }, async () => {
  const run = (input: string) =>
    new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = spawn('socat', ['-t', '5', '-', `UNIX-CONNECT:${admin.path}`], { stdio: ['pipe', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('close', (code) => resolve({ stdout, code }));
      child.stdin.end(input);
    });
  assert.deepEqual(await run('status\n'), { stdout: STATUS_OK, code: 0 });
  assert.deepEqual(await run('reload\n'), { stdout: '{"status":"ok"}\n', code: 0 });
  // The worker's uptime is real time since the fixture started: 0 or more on a busy machine.
  const prompt = await run('prompt\n@1\nstatus\nquit\n');
  assert.deepEqual({ ...prompt, stdout: prompt.stdout.replace(/"uptime_secs":\d+/, '"uptime_secs":N') }, { stdout: 'master> 1> {"status":"ok","uptime_secs":N,"sites":2}\n1> ', code: 0 });
});

test('a routed command that fails is answered with the runtime message, or a generic one', async () => {
  const backend = new TestMaster();
  const t = await startTestSocket({ backend });
  try {
    backend.sendToWorker = () => Promise.reject(new ReverseProxyError('ERR_WORKER_GONE', 'worker 1 exited before answering'));
    assert.equal(await exchange(t.path, '@1 status\n'), '{"status":"error","message":"worker 1 exited before answering"}\n');
    backend.sendToWorker = () => Promise.reject(new Error('channel closed at ChildProcess.target.send'));
    assert.equal(await exchange(t.path, '@1 status\n'), '{"status":"error","message":"internal error (see the proxy log)"}\n');
    assert.equal(t.logs().filter((l) => l.event === 'admin_worker_command_failed').length, 2);
  } finally {
    await t.close();
  }
});
