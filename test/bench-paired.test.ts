// The arithmetic the head-to-head benchmark (bench/paired.ts) and the target checks
// (bench/targets.ts) rest on. The rounds themselves need wrk and real proxies: `npm run bench`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapInterval, rateRatio, type PairedComparison } from '../bench/paired.ts';
import type { BenchRun } from '../bench/results.ts';
import { checkEngineTargets, checkTargets } from '../bench/targets.ts';
import { WORKLOADS, type WorkloadId } from '../bench/workloads.ts';

test('the ratio compares rates, so a round that ran longer does not count for more', () => {
  // Equal req/s in every round: whatever each round's length, the ratio is 1.
  assert.equal(rateRatio([30_000, 40_000], [30_000, 40_000]), 1);
  assert.equal(rateRatio([36_000, 27_000], [40_000, 30_000]), 0.9);
});

test('the interval of identical sides is exactly 1', () => {
  const rounds = [30_000, 24_000, 41_000, 35_000];
  assert.deepEqual(bootstrapInterval(rounds, rounds), [1, 1]);
});

test('the interval holds the ratio of the totals, is the same on every call, and narrows with more pairs', () => {
  const candidate = [28_000, 33_000, 25_000, 36_000, 31_000, 27_000, 34_000, 30_000];
  const baseline = [31_000, 34_000, 30_000, 35_000, 33_000, 32_000, 36_000, 31_000];
  const ratio = candidate.reduce((a, b) => a + b) / baseline.reduce((a, b) => a + b);
  const [low, high] = bootstrapInterval(candidate, baseline);
  assert.ok(low < ratio && ratio < high, `${low} < ${ratio} < ${high}`);
  assert.deepEqual(bootstrapInterval(candidate, baseline), [low, high]);
  const [wideLow, wideHigh] = bootstrapInterval(candidate.slice(0, 3), baseline.slice(0, 3));
  const [narrowLow, narrowHigh] = bootstrapInterval([...candidate, ...candidate, ...candidate], [...baseline, ...baseline, ...baseline]);
  assert.ok(narrowHigh - narrowLow < high - low && high - low < wideHigh - wideLow);
});

function comparison(candidate: string, baseline: string, workload: WorkloadId, rpsRatio: number, cpuRatio: number): PairedComparison {
  const side = (key: string) => ({ key, roundsRps: [], requests: 0, cpuUsPerRequest: 0, errors: 0 });
  return {
    workload,
    settings: { pairs: 24, roundSecs: 1, connections: 32 },
    candidate: side(candidate),
    baseline: side(baseline),
    rpsRatio,
    rpsRatioInterval: [rpsRatio - 0.02, rpsRatio + 0.02],
    pairRatios: { min: rpsRatio, q1: rpsRatio, median: rpsRatio, q3: rpsRatio, max: rpsRatio },
    cpuRatio,
  };
}

function runWith(paired: PairedComparison[]): BenchRun {
  return { workerCounts: [1, 2], throughput: { rows: [], footprint: [], failures: [], paired } } as unknown as BenchRun;
}

const allAgainstNginx = (rpsRatio: number, cpuRatio: number) =>
  [1, 2].flatMap((w) => WORKLOADS.map((wl) => comparison(`reverse-proxy/${w}w`, `nginx/${w}w`, wl.id, rpsRatio, cpuRatio)));

test('issue 13 targets: met, missed by one comparison, and never met when a comparison is missing', () => {
  const log = comparison('reverse-proxy/1w+log', 'reverse-proxy/1w', 'small-get', 0.9, 1.1);
  const met = checkEngineTargets(runWith([...allAgainstNginx(0.95, 1.2), log]));
  assert.ok(met.every((c) => c.met === true), JSON.stringify(met));

  const slowSmallGet = allAgainstNginx(0.95, 1.2).map((c) => (c.workload === 'small-get' && c.candidate.key === 'reverse-proxy/1w' ? { ...c, rpsRatio: 0.899 } : c));
  const missed = checkEngineTargets(runWith([...slowSmallGet, log]));
  assert.deepEqual(missed.filter((c) => c.met === false).map((c) => c.target), ['small-get, 1 worker: ≥0.9× nginx req/s']);
  assert.match(missed[0]!.measured, /0\.899×/);

  const withoutHosts2w = allAgainstNginx(0.95, 1.2).filter((c) => !(c.workload === 'hosts-1000' && c.candidate.key === 'reverse-proxy/2w'));
  const partial = checkEngineTargets(runWith(withoutHosts2w));
  assert.equal(partial.find((c) => c.target.startsWith('every workload, 2 workers'))?.met, undefined);
  assert.equal(partial.find((c) => c.target.startsWith('CPU'))?.met, undefined);
  assert.equal(partial.find((c) => c.target.startsWith('access log'))?.met, undefined);
  assert.equal(partial.find((c) => c.target.startsWith('CPU'))?.measured.includes('1.200×'), true);
});

test('added latency: judged when the proxy is slower than direct, not judged when direct was the slower', () => {
  const withPaced = (addedP99Ms: number) =>
    ({ ...runWith([]), addedLatency: { rows: [{ system: 'reverse-proxy', workers: 2, rps: 14_000, p50Ms: 0.7, p99Ms: 4.2, addedP99Ms }] } }) as unknown as BenchRun;
  const added = (ms: number) => checkTargets(withPaced(ms)).find((c) => c.target.startsWith('p99 added latency'));
  assert.equal(added(0.8)?.met, true);
  assert.equal(added(1.2)?.met, false);
  assert.equal(added(-3.781)?.met, undefined);
  assert.match(added(-3.781)?.measured ?? '', /direct's p99 was 3\.781 ms above ours/);
});
