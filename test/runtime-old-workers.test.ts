// Workers a `restart` replaced, while they finish their requests: `show proc` lists them under
// `# old workers` with the generation they serve and how long they have drained, `@!<pid>`
// reaches them, and each worker's `show info` is about that worker alone.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { get } from './helpers/http-client.ts';
import { procRows, startProxy, type ProxyProcess, site } from './helpers/proxy-process.ts';
import { startUpstream } from './helpers/upstream.ts';
import { VERSION } from '../src/version.ts';


/** A restart forks and drains each worker in turn: slow on a busy machine, so wait like ctl does. */
const RESTART_REPLY_MS = 60_000;

async function waitForProc(proxy: ProxyProcess, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + RESTART_REPLY_MS;
  while (Date.now() < deadline) {
    const text = await proxy.admin('show proc');
    if (ready(text)) return text;
    await sleep(25);
  }
  throw new Error(`show proc never got there:\n${await proxy.admin('show proc')}\n${proxy.tail()}`);
}

test('show proc during a restart: the draining worker under # old workers, reachable by @!pid', async (t) => {
  // The upstream holds the first request until told to answer, so the old worker has to drain.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const up = await startUpstream((req, res) => {
    if (req.url === '/slow') void held.then(() => res.end('slow done'));
    else res.end('ok');
  });
  t.after(() => up.close());
  t.after(() => release());
  const proxy = await startProxy({ t, workers: 1, config: site('app.test', up.url) });
  const [, oldWorker] = procRows(await proxy.admin('show proc'));
  const slow = get(proxy.port, 'app.test', '/slow');
  while (!up.requests.some((r) => r.url === '/slow')) await sleep(10);

  const restart = proxy.admin('restart', RESTART_REPLY_MS);
  const during = await waitForProc(proxy, (text) => /draining for/.test(text));
  const lines = during.split('\n');
  assert.equal(lines[3], '# old workers', during);
  assert.match(lines[2]!, new RegExp(`^\\d+ +worker +1 +0 +0d00h00m0\\ds +${VERSION}$`), 'the new worker holds slot 1');
  assert.match(lines[4]!, new RegExp(`^${oldWorker!.pid} +worker +1 +0 +0d00h00m\\d\\ds +${VERSION} +\\[generation 1, draining for 0d00h00m0\\ds\\]$`));
  const [, newWorker] = procRows(during);
  assert.notEqual(newWorker!.pid, oldWorker!.pid);
  assert.deepEqual(procRows(during, 'old'), [{ pid: oldWorker!.pid, type: 'worker', relativePid: 1 }]);

  // @!<pid> reaches the old worker; @1 is the slot's new one. Each speaks for itself only.
  const oldInfo = await proxy.admin(`@!${oldWorker!.pid} show info`);
  assert.match(oldInfo, /^Process_type: worker$/m);
  assert.match(oldInfo, /^Generation: 1$/m);
  assert.match(oldInfo, /^Draining: true$/m);
  assert.match(oldInfo, /^Active_requests: 1$/m, 'the held request is still running there');
  const newInfo = await proxy.admin('@1 show info');
  assert.match(newInfo, new RegExp(`^Pid: ${newWorker!.pid}$`, 'm'));
  assert.match(newInfo, /^Generation: 2$/m);
  assert.match(newInfo, /^Draining: false$/m);
  for (const info of [oldInfo, newInfo]) {
    assert.doesNotMatch(info, /^(Workers|Config_file|Last_reload\w*):/m, 'no master fields in a worker\'s show info');
    assert.match(info, /^Reloads: 0\nReloads_failed: 0\n/m);
  }
  assert.match(await proxy.admin(`@!${oldWorker!.pid} status`), /^\{"status":"error","message":"shutting down"\}\n$/);

  release();
  assert.equal((await slow).status, 200, 'the old worker finished its request');
  assert.equal(await restart, '{"status":"ok"}\n');
  const after = await proxy.admin('show proc');
  assert.doesNotMatch(after, /# old workers/, 'the section goes once the old worker has exited');
  assert.equal(await proxy.admin(`@!${oldWorker!.pid} status`), `{"status":"error","message":"no such process: @!${oldWorker!.pid}"}\n`);
});

test('show proc counts the workers of a slot that failed to start', async (t) => {
  const up = await startUpstream();
  t.after(() => up.close());
  const proxy = await startProxy({ t, workers: 1, config: site('app.test', up.url) });
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.after(() => squatter.close());
  const busyPort = (squatter.address() as AddressInfo).port;
  await proxy.writeConfig(`[[listeners]]\naddress = "127.0.0.1"\nport = ${busyPort}\n\n${site('app.test', up.url)}`);
  assert.match(await proxy.admin('restart', RESTART_REPLY_MS), /^\{"status":"error","message":"worker 1 could not start: /);
  const text = await waitForProc(proxy, (t) => !/# old workers/.test(t));
  assert.match(text.split('\n')[2]!, /^\d+ +worker +1 +.*\[failed starts: 1\]$/, text);
});
