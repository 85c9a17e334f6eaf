// The runtime's error replies to `reload` and `restart` are the ones docs/admin-socket.md
// documents (issue 12, item 7): every row of its "Errors of reload and restart" table is
// produced by a real proxy here (two at a time), and every error reply produced here is a row
// of that table, text for text. Only what depends on the machine is a placeholder: <file>,
// <listener>.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { sendCommand } from '../src/admin/client.ts';
import { MAX_CONFIG_BYTES } from '../src/config/load.ts';
import { APPLY_TIMEOUT_MS } from '../src/runtime/worker-process.ts';
import { get } from './helpers/http-client.ts';
import { startProxy, type ProxyProcess, RESTART_REPLY_MS } from './helpers/proxy-process.ts';
import { startUpstream } from './helpers/upstream.ts';

const DOCS = join(import.meta.dirname, '..', 'docs', 'admin-socket.md');
const TABLE_HEADING = '### Errors of `reload` and `restart`';

/** The reply cells of the docs table, in order. */
async function documentedReplies(): Promise<string[]> {
  const text = await readFile(DOCS, 'utf8');
  const start = text.indexOf(TABLE_HEADING);
  assert.ok(start !== -1, `docs/admin-socket.md has a "${TABLE_HEADING}" section`);
  const section = text.slice(start + TABLE_HEADING.length).split(/\n#{2,3} /)[0]!;
  return [...section.matchAll(/^\| `(\{"status":"error".*?\})` \|/gm)].map((m) => m[1]!);
}

/** One reply as the docs write it: one JSON line, machine-specific values as placeholders. */
function asDocumented(reply: string, values: Record<string, string>): string {
  assert.ok(reply.endsWith('\n') && !reply.slice(0, -1).includes('\n'), `one line: ${JSON.stringify(reply)}`);
  let line = reply.slice(0, -1);
  for (const [placeholder, value] of Object.entries(values)) line = line.replaceAll(value, placeholder);
  return line;
}

const site = (url: string) => `[[sites]]\nhost = "app.test"\nupstream = "${url}"\n`;

/** Replaces the config file in one rename, with exactly these bytes (no harness preamble). */
async function writeRaw(proxy: ProxyProcess, bytes: string | Buffer): Promise<void> {
  await writeFile(`${proxy.configPath}.tmp`, bytes);
  await rename(`${proxy.configPath}.tmp`, proxy.configPath);
}

/** The broken files of a ConfigMap edit gone wrong, each reloaded and then restarted. */
async function brokenFiles(t: TestContext, upstream: string, replies: string[]): Promise<void> {
  const proxy = await startProxy({ t, config: site(upstream) });
  const good = await readFile(proxy.configPath, 'utf8');
  const values = { '<file>': proxy.configPath };
  // Whole files of their own, so the line numbers in the replies are the ones the docs show.
  const sites = site(upstream);
  const broken: [string, string | Buffer][] = [
    ['empty', ''],
    ['not UTF-8', Buffer.from([0x77, 0x6f, 0x72, 0x6b, 0xff, 0xfe])],
    ['TOML syntax', `${sites}\n[[sites]\n`],
    ['wrong type', `workers = "many"\n\n${sites}`],
    ['unknown key', `${sites}upstrem_timeout = 3\n`],
    ['too large', `${good}#${'x'.repeat(MAX_CONFIG_BYTES - good.length)}`],
  ];
  for (const [name, bytes] of broken) {
    await writeRaw(proxy, bytes);
    const reload = await proxy.admin('reload');
    replies.push(asDocumented(reload, values));
    assert.equal(await proxy.admin('restart', RESTART_REPLY_MS), reload, `${name}: restart reads the file the same way and answers the same`);
  }
  await writeRaw(proxy, good);
  // Still being written: its modification time keeps it "not quiet" for every attempt.
  const soon = new Date(Date.now() + 800);
  await utimes(proxy.configPath, soon, soon);
  replies.push(asDocumented(await proxy.admin('reload'), values));
  const settled = new Date(Date.now() - 1000);
  await utimes(proxy.configPath, settled, settled);
  await rename(proxy.configPath, `${proxy.configPath}.moved`);
  replies.push(asDocumented(await proxy.admin('reload'), values));
  // Paths that are not regular files, each refused at once by reload and restart alike.
  const notFiles: [string, () => Promise<unknown>][] = [
    ['a directory', () => mkdir(proxy.configPath)],
    ['a FIFO', async () => execFileSync('mkfifo', [proxy.configPath])],
    ['a character device', () => symlink('/dev/zero', proxy.configPath)],
  ];
  for (const [name, make] of notFiles) {
    await make();
    const reload = await proxy.admin('reload');
    replies.push(asDocumented(reload, values));
    assert.equal(await proxy.admin('restart', RESTART_REPLY_MS), reload, `${name}: restart answers the same`);
    await rm(proxy.configPath, { recursive: true });
  }
  await rename(`${proxy.configPath}.moved`, proxy.configPath);
  assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n', 'the good file loads again');
}

/** A restart whose new workers cannot listen: a new listener on a port somebody holds. */
async function portInUse(t: TestContext, upstream: string, replies: string[]): Promise<void> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => holder.close(resolve)));
  const listener = `127.0.0.1:${(holder.address() as AddressInfo).port}`;
  const proxy = await startProxy({ t, workers: 2, config: site(upstream) });
  await writeRaw(proxy, `${await readFile(proxy.configPath, 'utf8')}\n[[listeners]]\naddress = "127.0.0.1"\nport = ${listener.split(':')[1]}\n`);
  replies.push(asDocumented(await proxy.admin('restart', RESTART_REPLY_MS), { '<listener>': listener }));
}

/** A worker that cannot answer (stopped): the reload names it once the apply times out. */
async function hungWorker(t: TestContext, upstream: string, replies: string[]): Promise<void> {
  const proxy = await startProxy({ t, config: site(upstream) });
  const worker = JSON.parse(await proxy.admin('@1 show info json')).pid as number;
  process.kill(worker, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(worker, 'SIGKILL');
    } catch {
      // already replaced and gone
    }
  });
  await proxy.writeConfig(`${site(upstream)}[[sites]]\nhost = "b.test"\nupstream = "${upstream}"\n`);
  // The master waits APPLY_TIMEOUT_MS for the acknowledgement, longer than the client default.
  replies.push(asDocumented(await sendCommand(proxy.socketPath, 'reload', APPLY_TIMEOUT_MS + 10_000), {}));
}

/** Reload and restart asked while the proxy drains for SIGTERM (a request holds the drain open). */
async function shuttingDown(t: TestContext, replies: string[]): Promise<void> {
  const silent = createServer((socket) => socket.on('error', () => undefined).resume());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => silent.close(resolve)));
  const reached = new Promise((resolve) => silent.once('connection', resolve));
  const proxy = await startProxy({ t, config: site(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`) });
  // Held open until the drain deadline cuts it, after this scenario is over.
  void get(proxy.port, 'app.test').catch(() => undefined);
  await reached;
  proxy.signal('SIGTERM');
  await proxy.waitForLog((l) => l.event === 'draining');
  const reload = await proxy.admin('reload');
  replies.push(asDocumented(reload, {}));
  assert.equal(await proxy.admin('restart', RESTART_REPLY_MS), reload, 'restart is refused the same way');
}

test('every documented reload/restart error is the real reply, and every real one is documented', async (t) => {
  const upstream = await startUpstream();
  t.after(() => upstream.close());
  const replies: string[] = [];
  // The hung worker mostly waits out APPLY_TIMEOUT_MS, so the others run meanwhile, one proxy at a time.
  const inTurn = async () => {
    await brokenFiles(t, upstream.url, replies);
    await portInUse(t, upstream.url, replies);
    await shuttingDown(t, replies);
  };
  await Promise.all([hungWorker(t, upstream.url, replies), inTurn()]);
  const documented = await documentedReplies();
  assert.deepEqual([...new Set(replies)].sort(), [...new Set(documented)].sort());
  assert.equal(documented.length, new Set(documented).size, 'each reply is documented once');
});
