// Balancing through the real binary: weighted round-robin shares over 1,000 requests, least_conn
// under uneven upstream latency, consistent hashing keeping keys when a server is removed by a
// reload, and backups. The balancers alone are unit-tested in balance.test.ts.
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { send } from './helpers/http-client.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

async function upstreams(count: number, delayMs: (i: number) => number = () => 0): Promise<Upstream[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startUpstream((req, res, seen) => {
        setTimeout(() => echo(`u${i}`)(req, res, seen), delayMs(i));
      }),
    ),
  );
}

/** Which upstream answered each of `count` requests (sent `concurrency` at a time). */
async function served(port: number, count: number, concurrency: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const names: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const reply = await send(port, { path: `/r${i}`, headers: { host: 'app.test', ...headers(i) }, agent });
      assert.equal(reply.status, 200, reply.body);
      names[i] = (JSON.parse(reply.body) as { upstream: string }).upstream;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return names;
}

const tally = (names: readonly string[]) => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());

test('round_robin: 1,000 requests over weights 5:3:2 land within 5% of each share', async (t) => {
  const ups = await upstreams(3);
  t.after(() => Promise.all(ups.map((u) => u.close())));
  const proxy = await startProxy({
    t,
    accessLog: false,
    config: `
[[upstreams]]
name = "app"
servers = [{ url = "${ups[0]!.url}", weight = 5 }, { url = "${ups[1]!.url}", weight = 3 }, { url = "${ups[2]!.url}", weight = 2 }]

[[sites]]
host = "app.test"
upstream = "app"
`,
  });
  const counts = tally(await served(proxy.port, 1000, 8));
  for (const [name, share] of [['u0', 0.5], ['u1', 0.3], ['u2', 0.2]] as const) {
    const got = (counts.get(name) ?? 0) / 1000;
    assert.ok(Math.abs(got - share) <= 0.05, `${name}: ${got} of the requests, configured ${share}`);
  }
});

test('least_conn: a slow server gets fewer requests than a fast one', async (t) => {
  // u0 answers in 150 ms, u1 at once: with several requests in flight u0 always has more.
  const ups = await upstreams(2, (i) => (i === 0 ? 150 : 0));
  t.after(() => Promise.all(ups.map((u) => u.close())));
  const config = (balance: string) => `
[[upstreams]]
name = "app"
servers = ["${ups[0]!.url}", "${ups[1]!.url}"]
balance = "${balance}"

[[sites]]
host = "app.test"
upstream = "app"
`;
  const proxy = await startProxy({ t, accessLog: false, config: config('least_conn') });
  const counts = tally(await served(proxy.port, 120, 6));
  const slow = counts.get('u0') ?? 0;
  assert.ok(slow < 30, `the slow server got ${slow} of 120 (round-robin would give it 60)`);
  // random_two is load-aware too.
  await proxy.writeConfig(config('random_two'));
  assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n');
  const random = tally(await served(proxy.port, 120, 6)).get('u0') ?? 0;
  assert.ok(random < 45, `random_two sent ${random} of 120 to the slow server`);
});

test('hash: a key keeps its server, and removing a server moves only its keys', async (t) => {
  const ups = await upstreams(4);
  t.after(() => Promise.all(ups.map((u) => u.close())));
  const config = (servers: Upstream[]) => `
[[upstreams]]
name = "app"
servers = [${servers.map((u) => `"${u.url}"`).join(', ')}]
balance = "hash"
hash_key = "header:x-user"

[[sites]]
host = "app.test"
upstream = "app"
`;
  const proxy = await startProxy({ t, accessLog: false, workers: 2, config: config(ups) });
  const users = (i: number) => ({ 'x-user': `user-${i % 80}` });
  const first = await served(proxy.port, 160, 4, users);
  // 160 requests, 80 users, two workers: every user got the same server both times.
  for (let i = 0; i < 80; i++) assert.equal(first[i], first[i + 80], `user-${i} moved between two requests`);
  assert.equal(tally(first).size, 4, 'keys spread over every server');

  await proxy.writeConfig(config(ups.filter((_, i) => i !== 2)));
  assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n');
  const after = await served(proxy.port, 80, 4, users);
  let moved = 0;
  for (let i = 0; i < 80; i++) {
    if (first[i] === 'u2') moved++;
    else assert.equal(after[i], first[i], `user-${i} moved from ${first[i]} to ${after[i]} although its server stayed`);
  }
  assert.ok(moved > 0 && after.every((n) => n !== 'u2'));
});

test('backups take traffic only while no primary is up', async (t) => {
  const [primary, backup] = await upstreams(2);
  t.after(() => Promise.all([primary!.close(), backup!.close()]));
  const proxy = await startProxy({
    t,
    accessLog: false,
    config: `
[[upstreams]]
name = "app"
servers = ["${primary!.url}", { url = "${backup!.url}", backup = true }]

[[sites]]
host = "app.test"
upstream = "app"
`,
  });
  assert.deepEqual([...tally(await served(proxy.port, 10, 2))], [['u0', 10]]);
  assert.equal(await proxy.admin(`set server app/${primary!.url} state maint`), '{"status":"ok"}\n');
  // The state reaches the workers over IPC; wait until it shows in traffic.
  for (let i = 0; i < 50 && (await served(proxy.port, 1, 1))[0] !== 'u1'; i++) await sleep(20);
  assert.deepEqual([...tally(await served(proxy.port, 10, 2))], [['u1', 10]]);
  assert.equal(await proxy.admin(`set server app/${backup!.url} state drain`), '{"status":"ok"}\n');
  await sleep(100);
  const none = await send(proxy.port, { headers: { host: 'app.test' } });
  assert.equal(none.status, 503);
  assert.equal(none.body, '503 no healthy server in upstream group "app"\n');
});
