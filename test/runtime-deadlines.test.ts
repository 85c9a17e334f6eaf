// The drain deadline is a deadline (issue 18): under load, with the access log on and a log
// reader that is slow, stalled or dead, the master exits within shutdown_timeout_secs plus
// SHUTDOWN_GRACE_MS and leaves no process behind; a worker whose master was killed stops within
// its own drain deadline; a stdout nobody reads costs dropped lines, never memory or serving.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { MAX_LOG_BACKLOG_BYTES } from '../src/log-writer.ts';
import { ORPHAN_DRAIN_TIMEOUT_MS } from '../src/runtime/worker-main.ts';
import { EXIT_LOG_FLUSH_MS } from '../src/log.ts';
import { SHUTDOWN_GRACE_MS, WORKER_CLOSE_GRACE_MS } from '../src/runtime/deadlines.ts';
import { failures, runLoad, type LoadResult } from './helpers/load.ts';
import { childPids, isRunning, parentOf, rssBytes } from './helpers/proc.ts';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { startUpstream, type Upstream } from './helpers/upstream.ts';

const SHUTDOWN_SECS = 2;
const DEADLINE_MS = SHUTDOWN_SECS * 1000;
/**
 * What the test itself adds to a measured exit: signal delivery, a drain message read late by a
 * worker whose event loop is starved, the exit event reaching the test process and timers
 * firing late on a loaded 2-core machine (over a second at load 10 and more). Not a speed
 * requirement: what these tests rule out is a process that outlives its deadline by far or
 * never exits.
 */
const MEASUREMENT_SLACK_MS = 3_000;
/** How long the load may take to fill the log backlog until the first drop report. */
const FIRST_DROP_REPORT_MS = 30_000;
/** RSS the load itself moves by (garbage between collections), unrelated to the log. */
const MAX_RSS_NOISE_BYTES = 10 * 1024 ** 2;
/** Path length that makes each access-log line ~3.6 KB: the backlog grows fast, yet stays under PIPE_BUF. */
const LONG_PATH = `/${'p'.repeat(3_500)}`;

/** Answers `ok`, except `/hang…`, which never answers: requests that outlive any drain. */
async function startApp(t: TestContext): Promise<Upstream> {
  const app = await startUpstream((req, res) => {
    if (!req.url?.startsWith('/hang')) res.end('ok');
  });
  t.after(() => app.close());
  return app;
}

async function startBusyProxy(t: TestContext, app: Upstream, workers = 1): Promise<{ proxy: ProxyProcess; workers: number[] }> {
  const proxy = await startProxy({ t, workers, shutdownTimeoutSecs: SHUTDOWN_SECS, config: `[[sites]]\ndefault = true\nupstream = "${app.url}"\n` });
  return { proxy, workers: childPids(proxy.pid) };
}

/** Load until `stop` resolves; the result is read after the proxy has gone. */
function load(proxy: ProxyProcess, stop: Promise<unknown>, path = '/'): Promise<LoadResult> {
  return runLoad({ url: proxy.url, host: 'app.test', connections: 16, path, until: stop });
}

/** Starts `count` requests the upstream never answers and waits until it holds them all. */
async function hangRequests(proxy: ProxyProcess, app: Upstream, count: number): Promise<void> {
  const before = app.requests.length;
  for (let i = 0; i < count; i++) void request(`${proxy.url}/hang${i}`).then((res) => res.body.dump(), () => undefined);
  while (app.requests.filter((r) => r.url.startsWith('/hang')).length < count || app.requests.length < before + count) await sleep(10);
}

/** Resolves with the milliseconds from now until every pid has exited, or rejects after `limitMs`. */
async function allGoneWithin(pids: number[], limitMs: number, what: string, proxy: ProxyProcess): Promise<number> {
  const started = performance.now();
  while (pids.some(isRunning)) {
    if (performance.now() - started > limitMs) assert.fail(`${what}: still running after ${limitMs} ms: ${pids.filter(isRunning).join(', ')}\n${proxy.tail(4)}`);
    await sleep(20);
  }
  return performance.now() - started;
}

/** Kills what a failed test left, so no process outlives the suite. */
function reapOnFailure(t: TestContext, pids: () => number[]): void {
  t.after(() => {
    for (const pid of pids()) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
}

describe('shutdown deadlines', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  test('SIGTERM under load, access log on, slow log reader: drops reported, master exits within deadline + grace, no process left', async (t) => {
    const app = await startApp(t);
    const { proxy, workers } = await startBusyProxy(t, app);
    reapOnFailure(t, () => workers);
    // A log shipper slower than the traffic: the workers' access lines back up behind it.
    proxy.readStdout({ slow: 50 });
    const traffic = load(proxy, proxy.exited, LONG_PATH);
    // The backlog fills, lines are dropped, and the log says how many while traffic goes on.
    const report = await proxy.waitForLog((l) => l.event === 'log_lines_dropped', FIRST_DROP_REPORT_MS);
    assert.ok((report.dropped as number) > 0 && (report.dropped_total as number) >= (report.dropped as number), JSON.stringify(report));
    await hangRequests(proxy, app, 2);

    const signalled = performance.now();
    proxy.signal('SIGTERM');
    const exit = await Promise.race([proxy.exited, sleep(DEADLINE_MS + SHUTDOWN_GRACE_MS + MEASUREMENT_SLACK_MS).then(() => 'still running')]);
    const exitMs = performance.now() - signalled;
    assert.notEqual(exit, 'still running', `master still running ${Math.round(exitMs)} ms after SIGTERM\n${proxy.tail(4)}`);
    await allGoneWithin(workers, MEASUREMENT_SLACK_MS, 'workers after the master exited', proxy);
    const served = await traffic;
    assert.ok(served.ok > 100, `the proxy served under load (${served.ok} ok)`);
  });

  test('stdout nobody reads: serving goes on, memory stays bounded, shutdown within deadline + grace', async (t) => {
    const app = await startApp(t);
    const { proxy, workers } = await startBusyProxy(t, app);
    reapOnFailure(t, () => workers);
    const tree = [proxy.pid, ...workers];
    const treeRss = async () => (await Promise.all(tree.map(rssBytes))).reduce((a, b) => a + b, 0);
    proxy.readStdout('paused');
    // Fill the pipe first, then measure what a further stretch of load costs master and worker.
    const traffic = load(proxy, proxy.exited, LONG_PATH);
    await sleep(1_000);
    const rssBefore = await treeRss();
    await sleep(2_000);
    const rssAfter = await treeRss();
    // 2 s of 3.6 KB lines is tens of MB if they were kept; each backlog holds 1 MiB at most.
    const growth = rssAfter - rssBefore;
    assert.ok(growth < 2 * MAX_LOG_BACKLOG_BYTES + MAX_RSS_NOISE_BYTES, `master + worker RSS grew ${Math.round(growth / 1024 ** 2)} MB with stdout full`);
    const probe = await request(`${proxy.url}/`, { headers: { host: 'app.test' } });
    assert.equal(probe.statusCode, 200, 'a new request is still served while stdout is full');
    await probe.body.dump();

    const signalled = performance.now();
    proxy.signal('SIGTERM');
    const exit = await Promise.race([proxy.exited, sleep(DEADLINE_MS + SHUTDOWN_GRACE_MS + MEASUREMENT_SLACK_MS).then(() => 'still running')]);
    assert.notEqual(exit, 'still running', `master still running ${Math.round(performance.now() - signalled)} ms after SIGTERM with stdout full\n${proxy.tail(4)}`);
    await allGoneWithin(workers, MEASUREMENT_SLACK_MS, 'workers after the master exited', proxy);
    const served = await traffic;
    assert.ok(served.ok > 100, `served with stdout full: ${JSON.stringify(served)}`);
    assert.equal(served.statuses[502] ?? 0, 0, 'no request failed for the log');
  });

  test('master SIGKILLed under load, its log reader stalled: each worker gone within its own drain deadline, or at once when sent SIGTERM', async (t) => {
    const app = await startApp(t);
    const { proxy, workers } = await startBusyProxy(t, app, 2);
    reapOnFailure(t, () => workers);
    proxy.readStdout({ slow: 50 });
    const traffic = load(proxy, sleep(2_000), LONG_PATH);
    await hangRequests(proxy, app, 4);
    await sleep(2_000);
    proxy.signal('SIGKILL');
    // Whoever read the log went with the master (a supervisor, a dying `tee`).
    proxy.readStdout('paused');
    const [left, signalled] = workers as [number, number];
    // Once handed to another parent, one worker is told to stop: with no master to coordinate a
    // drain, that means now. The other one drains on its own.
    while (isRunning(signalled) && parentOf(signalled) === proxy.pid) await sleep(10);
    const orphaned = performance.now();
    process.kill(signalled, 'SIGTERM');
    await allGoneWithin([signalled], EXIT_LOG_FLUSH_MS + MEASUREMENT_SLACK_MS, 'orphaned worker after SIGTERM', proxy);
    const orphanDeadline = Math.min(ORPHAN_DRAIN_TIMEOUT_MS, DEADLINE_MS);
    const remaining = orphanDeadline - (performance.now() - orphaned);
    await allGoneWithin([left], remaining + WORKER_CLOSE_GRACE_MS + EXIT_LOG_FLUSH_MS + MEASUREMENT_SLACK_MS, 'orphaned worker left alone', proxy);
    assert.ok((await traffic).ok > 0);
  });

  test('master SIGKILLed while draining: the workers still exit by the drain deadline they were given', async (t) => {
    const app = await startApp(t);
    const { proxy, workers } = await startBusyProxy(t, app);
    reapOnFailure(t, () => workers);
    proxy.readStdout({ slow: 50 });
    const traffic = load(proxy, proxy.exited, LONG_PATH);
    await sleep(2_000);
    await hangRequests(proxy, app, 2);
    proxy.signal('SIGTERM');
    const drainStarted = performance.now();
    // The worker's own "draining" line may be stuck behind its backlog; the drain message is
    // on its way once the master logged its own.
    await proxy.waitForLog((l) => l.event === 'draining' && l.component === 'master');
    await sleep(200);
    proxy.signal('SIGKILL');
    proxy.readStdout('paused');
    const left = DEADLINE_MS - (performance.now() - drainStarted);
    await allGoneWithin(workers, left + WORKER_CLOSE_GRACE_MS + EXIT_LOG_FLUSH_MS + MEASUREMENT_SLACK_MS, 'workers draining when their master died', proxy);
    const result = await traffic;
    assert.ok(result.ok > 0, `served before the shutdown: ${JSON.stringify(result)} (${failures(result)} failures, expected once it stops)`);
  });

  test('stdout and stderr readers gone (EPIPE): serving goes on and SIGTERM still ends every process within deadline + grace', async (t) => {
    const app = await startApp(t);
    const { proxy, workers } = await startBusyProxy(t, app);
    reapOnFailure(t, () => workers);
    const traffic = load(proxy, proxy.exited);
    await sleep(500);
    // `serve | tee` with a dying tee, a dead supervisor: every further write gets EPIPE.
    proxy.child.stdout!.destroy();
    proxy.child.stderr!.destroy();
    await hangRequests(proxy, app, 1);
    const probe = await request(`${proxy.url}/`, { headers: { host: 'app.test' } });
    assert.equal(probe.statusCode, 200, 'served with nobody reading the log');
    await probe.body.dump();
    const signalled = performance.now();
    proxy.signal('SIGTERM');
    const exit = await Promise.race([proxy.exited, sleep(DEADLINE_MS + SHUTDOWN_GRACE_MS + MEASUREMENT_SLACK_MS).then(() => 'still running')]);
    assert.notEqual(exit, 'still running', `master still running ${Math.round(performance.now() - signalled)} ms after SIGTERM with its pipes gone`);
    await allGoneWithin(workers, MEASUREMENT_SLACK_MS, 'workers after the master exited', proxy);
    assert.ok((await traffic).ok > 0);
  });
});
