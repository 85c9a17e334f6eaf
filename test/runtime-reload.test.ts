// SIGHUP reloads through the real binary: new sites are served, a broken file changes nothing,
// requests in flight finish on the generation they started with, reloads never overlap.
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { startProxy, type LogLine, site } from './helpers/proxy-process.ts';
import { echo, startUpstream } from './helpers/upstream.ts';


async function get(url: string, host: string): Promise<{ status: number; body: string }> {
  const res = await request(url, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
}

const reloadEvents = (logs: LogLine[]) => logs.filter((l) => l.event === 'reload');

describe('reload on SIGHUP', () => {
  test('a valid file is applied: new sites served, old ones gone, generation advances', async (t) => {
    const a = await startUpstream(echo('a'));
    const b = await startUpstream(echo('b'));
    t.after(() => Promise.all([a.close(), b.close()]));
    const proxy = await startProxy({ t, config: site('a.test', a.url) });

    assert.equal((await get(proxy.url, 'a.test')).status, 200);
    assert.equal((await get(proxy.url, 'b.test')).status, 404);

    await proxy.writeConfig(site('b.test', b.url));
    proxy.signal('SIGHUP');
    const reload = await proxy.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'ok');
    assert.deepEqual(reload.triggers, ['sighup']);
    assert.equal(reload.generation, 2);

    const served = await get(proxy.url, 'b.test');
    assert.equal(served.status, 200);
    assert.equal(JSON.parse(served.body).upstream, 'b');
    assert.equal((await get(proxy.url, 'a.test')).status, 404);
  });

  test('a broken file keeps the old config serving and logs file:line and key', async (t) => {
    const a = await startUpstream(echo('a'));
    t.after(() => a.close());
    const proxy = await startProxy({ t, config: site('a.test', a.url) });

    await proxy.writeConfig(`${site('a.test', a.url)}[[sites]]\nhost = "b.test"\nupstream = "not a url"\n`);
    proxy.signal('SIGHUP');
    const reload = await proxy.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'failed');
    assert.match(String(reload.message), /config\.toml:\d+: sites\[1\]\.upstream\[0\]: "not a url" is not a URL/);
    assert.equal(reload.generation, 1, 'the running generation did not change');

    const served = await get(proxy.url, 'a.test');
    assert.equal(served.status, 200);
    assert.equal(JSON.parse(served.body).upstream, 'a');

    // An empty file (a writer caught mid-truncate) is refused the same way.
    await writeFile(`${proxy.configPath}.tmp`, '');
    await rename(`${proxy.configPath}.tmp`, proxy.configPath);
    proxy.signal('SIGHUP');
    const empty = await proxy.waitForLog((l) => l.event === 'reload' && l !== reload);
    assert.equal(empty.result, 'failed');
    assert.match(String(empty.message), /config\.toml: is empty/);
    assert.equal((await get(proxy.url, 'a.test')).status, 200);

    // And the next good file is applied as usual.
    await proxy.writeConfig(site('a.test', a.url) + site('c.test', a.url));
    proxy.signal('SIGHUP');
    await proxy.waitForLog((l) => l.event === 'reload' && l.result === 'ok');
    assert.equal((await get(proxy.url, 'c.test')).status, 200);
  });

  test('a changed static key is reported and the sites are still applied', async (t) => {
    const a = await startUpstream(echo('a'));
    t.after(() => a.close());
    const file = (timeout: number, host: string) =>
      `admin_socket_path = ""\nshutdown_timeout_secs = ${timeout}\n[[listeners]]\naddress = "127.0.0.1"\nport = 0\n\n${site(host, a.url)}`;
    const proxy = await startProxy({ t, raw: true, config: file(5, 'a.test') });
    await proxy.writeConfig(file(7, 'z.test'));
    proxy.signal('SIGHUP');
    const reload = await proxy.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'ok');
    assert.deepEqual(reload.warnings, ['shutdown_timeout_secs changed: restart required to apply it (use the restart command)']);
    assert.equal((await get(proxy.url, 'z.test')).status, 200);
  });

  test('a request in flight finishes on its generation; new requests use the new one', async (t) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = await startUpstream((_req, res) => void held.then(() => res.end('old generation')));
    const fresh = await startUpstream((_req, res) => res.end('new generation'));
    t.after(() => Promise.all([slow.close(), fresh.close()]));
    const proxy = await startProxy({ t, config: site('app.test', slow.url) });

    const inFlight = get(proxy.url, 'app.test');
    while (slow.requests.length === 0) await sleep(10);

    await proxy.writeConfig(site('app.test', fresh.url));
    proxy.signal('SIGHUP');
    await proxy.waitForLog((l) => l.event === 'reload' && l.result === 'ok');
    assert.deepEqual(await get(proxy.url, 'app.test'), { status: 200, body: 'new generation' });

    release();
    assert.deepEqual(await inFlight, { status: 200, body: 'old generation' });
  });

  test('reloads from SIGHUP and the socket are serialized: starts and ends strictly alternate', async (t) => {
    const a = await startUpstream(echo('a'));
    t.after(() => a.close());
    const proxy = await startProxy({ t, config: site('a.test', a.url), workers: 2 });

    const replies: Promise<string>[] = [];
    for (let i = 0; i < 25; i++) {
      proxy.signal('SIGHUP');
      replies.push(proxy.admin('reload'));
    }
    for (const reply of await Promise.all(replies)) assert.equal(reply, '{"status":"ok"}\n');
    // Let any reload queued by the last signals finish.
    await proxy.waitForLog(() => {
      const starts = proxy.logs.filter((l) => l.event === 'reload_start').length;
      return starts > 0 && starts === reloadEvents(proxy.logs).length;
    });
    await sleep(200);

    const sequence = proxy.logs.filter((l) => l.event === 'reload_start' || l.event === 'reload').map((l) => l.event);
    assert.ok(sequence.length >= 4, `expected several reloads, saw ${sequence.length / 2}`);
    sequence.forEach((event, i) => assert.equal(event, i % 2 === 0 ? 'reload_start' : 'reload', `overlap at position ${i}: ${sequence.join(',')}`));
    // Coalesced runs name every kind of request they served; both kinds were served.
    const triggers = new Set(reloadEvents(proxy.logs).flatMap((l) => l.triggers as string[]));
    assert.deepEqual([...triggers].sort(), ['sighup', 'socket']);
  });
});

describe('logs', () => {
  test('every line the master and workers write is one JSON object with a pino level and an event', async (t) => {
    const a = await startUpstream(echo('a'));
    t.after(() => a.close());
    const proxy = await startProxy({ t, config: site('a.test', a.url), workers: 2 });
    await get(proxy.url, 'a.test');
    assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n');
    // Master and workers write to separate pipes: wait for the last line of each.
    await proxy.waitForLog((l) => l.event === 'access');
    await proxy.waitForLog((l) => l.event === 'reload');
    const levels = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
    assert.ok(proxy.logs.length >= 5);
    for (const line of proxy.logs) {
      assert.ok(levels.has(String(line.level)), `a pino level, not a shadowing field: ${JSON.stringify(line)}`);
      assert.equal(typeof line.event, 'string', `has an event: ${JSON.stringify(line)}`);
      assert.ok(['master', 'worker'].includes(String(line.component)));
    }
  });
});
