// Active health checks end to end: the real `serve` with two workers in front of two loopback
// upstreams whose /healthz the test flips. Checks run once per pod (in the master), take a
// server out after `fall` failures and back after `rise` successes, are logged, and show in
// `show servers`; `set server` changes a server until the next reload.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { sendCommand } from '../src/admin/client.ts';
import { send } from './helpers/http-client.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { startUpstream, type Upstream } from './helpers/upstream.ts';

const INTERVAL_MS = 200;
const FALL = 2;
const RISE = 2;

/** An upstream whose /healthz answers 200 or 503 as the test decides, noting when it is asked. */
async function flippable(): Promise<{ upstream: Upstream; checks: number[]; setHealthy(healthy: boolean): void }> {
  let healthy = true;
  const checks: number[] = [];
  const upstream = await startUpstream((req, res) => {
    if (req.url !== '/healthz') return void res.writeHead(200).end('app');
    checks.push(performance.now());
    res.writeHead(healthy ? 200 : 503).end();
  });
  return { upstream, checks, setHealthy: (h) => (healthy = h) };
}

function rowOf(table: string, url: string): string[] {
  const line = table.split('\n').find((l) => l.split(' ')[1] === url);
  assert.ok(line, `no row for ${url} in:\n${table}`);
  return line.split(' ');
}

test('health checks: once per pod, fall and rise with their timings, show servers and set server', async (t) => {
  const a = await flippable();
  const b = await flippable();
  const sockets = await mkdtemp(join(tmpdir(), 'rp-health-'));
  t.after(async () => {
    await Promise.all([a.upstream.close(), b.upstream.close()]);
    await rm(sockets, { recursive: true, force: true });
  });
  const userSocket = join(sockets, 'user.sock');
  // A port nobody listens on any more: connections to it are refused.
  const gone = await startUpstream();
  await gone.close();
  const config = (extra = '') => `
[[admin_sockets]]
path = "${userSocket}"
level = "user"

[[upstreams]]
name = "api"
servers = [{ url = "${a.upstream.url}", weight = 3 }, "${b.upstream.url}", { url = "${gone.url}", backup = true }]
health_check = { path = "/healthz", interval_secs = ${INTERVAL_MS / 1000}, timeout_secs = 0.5, rise = ${RISE}, fall = ${FALL} }
${extra}
[[sites]]
host = "plain.test"
upstream = ["${a.upstream.url}", "${b.upstream.url}"]
`;
  const proxy = await startProxy({ t, workers: 2, config: config() });

  // Once per pod: two workers, yet one check per interval. Timers only ever run late, so more
  // than one check per interval (plus slack for the first) would mean a second checker.
  const windowStart = performance.now();
  await sleep(INTERVAL_MS * 6);
  const inWindow = a.checks.filter((at) => at >= windowStart).length;
  assert.ok(inWindow >= 1 && inWindow <= 6 + 1, `${inWindow} checks in ${INTERVAL_MS * 6} ms with 2 workers`);

  const table = await proxy.admin('show servers');
  assert.equal(table.split('\n')[0], '# group server health admin weight backup active last_check last_check_at');
  assert.deepEqual(rowOf(table, a.upstream.url).slice(0, 8), ['api', a.upstream.url, 'up', 'ready', '3', 'no', '0', 'ok:200']);
  assert.match(rowOf(table, a.upstream.url)[8]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  await proxy.waitForLog((l) => l.event === 'server_health' && l.server === gone.url && l.state === 'down' && l.check === 'refused');
  assert.deepEqual(rowOf(await proxy.admin('show servers'), gone.url).slice(2, 8), ['down', 'ready', '1', 'yes', '0', 'fail:refused']);
  // A site's own URL list is a group too, without checks.
  assert.ok(table.includes(`site:plain.test ${b.upstream.url} up ready 1 no 0 - -\n`), table);

  // Down after FALL failures in a row: never sooner than FALL - 1 intervals after the flip.
  const flippedAt = performance.now();
  b.setHealthy(false);
  const down = await proxy.waitForLog((l) => l.event === 'server_health' && l.server === b.upstream.url && l.state === 'down');
  const downAfter = performance.now() - flippedAt;
  assert.equal(down.group, 'api');
  assert.equal(down.check, '503');
  assert.equal(down.streak, FALL);
  assert.ok(downAfter >= (FALL - 1) * INTERVAL_MS * 0.9, `down after ${Math.round(downAfter)} ms`);
  const failed = b.checks.filter((at) => at >= flippedAt).length;
  assert.ok(failed >= FALL, `${failed} failed checks before going down`);
  assert.deepEqual(rowOf(await proxy.admin('show servers'), b.upstream.url).slice(2, 8), ['down', 'ready', '1', 'no', '0', 'fail:503']);

  // Back after RISE successes in a row.
  const healedAt = performance.now();
  b.setHealthy(true);
  const up = await proxy.waitForLog((l) => l.event === 'server_health' && l.server === b.upstream.url && l.state === 'up' && (l.time as string) > (down.time as string));
  assert.equal(up.streak, RISE);
  assert.ok(performance.now() - healedAt >= (RISE - 1) * INTERVAL_MS * 0.9);
  assert.deepEqual(rowOf(await proxy.admin('show servers'), b.upstream.url).slice(2, 8), ['up', 'ready', '1', 'no', '0', 'ok:200']);

  // set server: operator level; the state shows at once and lasts until the next reload.
  assert.equal(await sendCommand(userSocket, `set server api/${a.upstream.url} state drain`), '{"status":"error","message":"permission denied: \\"set server api/' + a.upstream.url + ' state drain\\" needs level operator, this socket is level user"}\n');
  assert.match(await sendCommand(userSocket, 'show servers'), /^# group server/, 'show servers is user level');
  assert.equal(await proxy.admin(`set server api/${a.upstream.url}/ state drain`), '{"status":"ok"}\n', 'a trailing slash is the same server');
  assert.equal(await proxy.admin(`set server site:plain.test/${b.upstream.url} state maint`), '{"status":"ok"}\n');
  const drained = await proxy.admin('show servers');
  assert.equal(rowOf(drained, a.upstream.url)[3], 'drain');
  assert.ok(drained.includes(`site:plain.test ${b.upstream.url} up maint`), drained);
  await proxy.waitForLog((l) => l.event === 'server_admin_state' && l.server === a.upstream.url && l.state === 'drain' && l.previous === 'ready');

  assert.equal(await proxy.admin('set server nope/http://127.0.0.1:1 state drain'), '{"status":"error","message":"no upstream group \\"nope\\""}\n');
  assert.equal(await proxy.admin('set server api/http://127.0.0.1:1 state drain'), '{"status":"error","message":"no server http://127.0.0.1:1 in group \\"api\\""}\n');
  assert.equal(await proxy.admin(`set server api/${a.upstream.url} state down`), '{"status":"error","message":"state must be one of ready, drain, maint, not \\"down\\""}\n');
  assert.equal(await proxy.admin('set server api state drain'), '{"status":"error","message":"usage: set server <group>/<url> state ready|drain|maint"}\n');

  // A reload brings every admin state back to ready and keeps the health of unchanged checks.
  b.setHealthy(false);
  await proxy.waitForLog((l) => l.event === 'server_health' && l.server === b.upstream.url && l.state === 'down' && (l.time as string) > (up.time as string));
  assert.equal(await proxy.admin('reload'), '{"status":"ok"}\n');
  const reloaded = await proxy.admin('show servers');
  assert.equal(rowOf(reloaded, a.upstream.url)[3], 'ready');
  assert.ok(reloaded.includes(`site:plain.test ${b.upstream.url} up ready`), reloaded);
  assert.deepEqual(rowOf(reloaded, b.upstream.url).slice(0, 4), ['api', b.upstream.url, 'down', 'ready']);
});

test('traffic follows the checks: a server that is down gets no requests; with none up, 503', async (t) => {
  const a = await flippable();
  const b = await flippable();
  t.after(() => Promise.all([a.upstream.close(), b.upstream.close()]));
  // A check timeout of 2 s: with fall = 1, one check of a healthy server slowed by a loaded
  // machine would take it out; servers made unhealthy here answer 503 at once.
  const proxy = await startProxy({
    t,
    workers: 2,
    config: `
[[upstreams]]
name = "api"
servers = ["${a.upstream.url}", "${b.upstream.url}"]
health_check = { path = "/healthz", interval_secs = 0.1, timeout_secs = 2, rise = 1, fall = 1 }

[[sites]]
host = "app.test"
upstream = "api"
`,
  });
  // Each worker has applied the master's last broadcast once it has answered a later message on
  // the same ordered IPC channel: `show servers` asks every worker for its connection counts.
  const workersHaveHeard = () => proxy.admin('show servers');
  const appRequests = (u: Upstream) => u.requests.filter((r) => r.url === '/app').length;
  const burst = async (n: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await send(proxy.port, { path: '/app', headers: { host: 'app.test' } })).status);
    return statuses;
  };
  assert.deepEqual(await burst(10), Array(10).fill(200));
  assert.ok(appRequests(a.upstream) > 0 && appRequests(b.upstream) > 0, 'both servers serve while both are up');

  b.setHealthy(false);
  await proxy.waitForLog((l) => l.event === 'server_health' && l.server === b.upstream.url && l.state === 'down');
  await workersHaveHeard();
  const before = appRequests(b.upstream);
  assert.deepEqual(await burst(10), Array(10).fill(200));
  assert.equal(appRequests(b.upstream), before, 'a server down by its check gets nothing');

  a.setHealthy(false);
  await proxy.waitForLog((l) => l.event === 'server_health' && l.server === a.upstream.url && l.state === 'down');
  await workersHaveHeard();
  const down = await send(proxy.port, { path: '/app', headers: { host: 'app.test' } });
  assert.equal(down.status, 503);
  assert.equal(down.body, '503 no healthy server in upstream group "api"\n');
  const line = await proxy.waitForLog((l) => l.event === 'access' && l.status === 503);
  assert.equal(line.error, 'ERR_NO_HEALTHY_SERVER');
  assert.equal(line.attempts, 0);

  b.setHealthy(true);
  await proxy.waitForLog((l) => l.event === 'server_health' && l.server === b.upstream.url && l.state === 'up');
  await workersHaveHeard();
  assert.deepEqual(await burst(4), Array(4).fill(200), 'back in once its check passes again');
});
