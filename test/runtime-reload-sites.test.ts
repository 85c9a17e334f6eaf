// A reload through the real binary that changes one site of several: the master validates that
// block only, both workers get only that site (the others by reference) and serve the new
// config, the unchanged sites keep answering, and a broken block leaves everything serving and
// is named at its line.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { get } from './helpers/http-client.ts';
import { childPids } from './helpers/proc.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { echo, startUpstream } from './helpers/upstream.ts';

function site(n: number, body: string, upstream: string): string {
  return `[[sites]]
host = "site-${n}.test"
upstream = "${upstream}"

  [[sites.routes]]
  path = "/ping"
  respond = { status = 200, body = "${body}" }

  [[sites.routes]]
  name = "app"
  path_prefix = "/app/"
  strip_prefix = true

`;
}

describe('reloading one site of several', () => {
  test('only the edited block is validated, every worker serves the edit, the others keep serving, a broken block changes nothing', async (t) => {
    const upstream = await startUpstream(echo('app'));
    t.after(() => upstream.close());
    const config = (bodies: string[]) => bodies.map((body, i) => site(i, body, upstream.url)).join('');
    const bodies = ['zero', 'one', 'two', 'three'];
    const proxy = await startProxy({ config: config(bodies), workers: 2, accessLog: false, t });

    const reloadLog = (generation: number, result: string) => proxy.waitForLog((l) => l.event === 'reload' && l.generation === generation && l.result === result);
    bodies[2] = 'two, edited';
    await proxy.writeConfig(config(bodies));
    // An ok reply means both workers acknowledged the generation, sent with three sites as references.
    assert.match(await proxy.admin('reload'), /^\{"status":"ok"/);
    const reload = await reloadLog(2, 'ok');
    assert.equal(reload.sites_parsed, 1);
    assert.equal(reload.sites_unchanged, 3);

    // Requests spread over both workers (a new connection each): each one answers the new config.
    for (let i = 0; i < 8; i++) {
      assert.equal((await get(proxy.port, 'site-2.test', '/ping')).body, 'two, edited');
      assert.equal((await get(proxy.port, 'site-1.test', '/ping')).body, 'one');
      const app = await get(proxy.port, 'site-3.test', '/app/x');
      assert.equal(app.status, 200);
      assert.equal(JSON.parse(app.body).url, '/x');
    }

    const broken = config(bodies).replace('name = "app"\n  path_prefix = "/app/"', 'name = "app"\n  path_prefix = "app/"');
    await proxy.writeConfig(broken);
    const reply = await proxy.admin('reload');
    const line = (await readFile(proxy.configPath, 'utf8')).split('\n').indexOf('  path_prefix = "app/"') + 1;
    assert.ok(line > 0);
    assert.match(reply, /"status":"error"/);
    assert.ok(reply.includes(`config.toml:${line}: sites[0].routes[1].path_prefix: must start with \\"/\\"`), reply);
    await reloadLog(2, 'failed');
    assert.equal((await get(proxy.port, 'site-2.test', '/ping')).body, 'two, edited', 'the running config keeps serving');

    bodies[0] = 'zero, edited';
    await proxy.writeConfig(config(bodies));
    assert.match(await proxy.admin('reload'), /^\{"status":"ok"/);
    assert.equal((await reloadLog(3, 'ok')).sites_parsed, 1, 'the refused file did not replace what the last good load validated');
    assert.equal((await get(proxy.port, 'site-0.test', '/ping')).body, 'zero, edited');
  });

  test('a worker respawned after a crash holds the whole generation, so the next one-site reload reaches it too', async (t) => {
    const upstream = await startUpstream(echo('app'));
    t.after(() => upstream.close());
    const config = (bodies: string[]) => bodies.map((body, i) => site(i, body, upstream.url)).join('');
    const bodies = ['zero', 'one', 'two'];
    const proxy = await startProxy({ config: config(bodies), workers: 2, accessLog: false, t });
    bodies[1] = 'one, edited';
    await proxy.writeConfig(config(bodies));
    assert.match(await proxy.admin('reload'), /^\{"status":"ok"/);

    process.kill(childPids(proxy.pid)[0]!, 'SIGKILL');
    // Started on generation 2, whole: the reload below waits for its acknowledgement too.
    await proxy.waitForLog((l) => l.event === 'worker_respawn');
    bodies[2] = 'two, edited';
    await proxy.writeConfig(config(bodies));
    assert.match(await proxy.admin('reload'), /^\{"status":"ok"/, 'the respawned worker resolved every site sent as a reference');
    for (let i = 0; i < 8; i++) {
      assert.equal((await get(proxy.port, 'site-2.test', '/ping')).body, 'two, edited');
      assert.equal((await get(proxy.port, 'site-1.test', '/ping')).body, 'one, edited');
    }
  });
});
