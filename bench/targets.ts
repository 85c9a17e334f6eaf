// The targets of issues 8 and 13, checked against one bench run. A target with no measurement
// (the system did not start, the step failed) is reported as not measured, never as met.
import { NGINX, ourRatios, OURS, systemKey } from './compare.ts';
import type { PairedComparison } from './paired.ts';
import type { BenchRun } from './results.ts';
import { WORKLOADS, type WorkloadId } from './workloads.ts';

export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined: not measured in this run. */
  met?: boolean;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function minOf(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : Math.min(...present);
}

/**
 * The proxy's paced p99 less the direct one's. A negative difference cannot be latency the proxy
 * added: the direct round itself was disturbed, so the run says nothing about this target.
 */
function addedLatencyCheck(run: BenchRun): TargetCheck {
  const target = 'p99 added latency ≤1 ms at half of max load';
  const paced = run.addedLatency?.rows.find((r) => r.system === OURS);
  const added = paced?.addedP99Ms;
  if (paced === undefined || added === undefined) return { target, measured: 'not measured' };
  const at = `at ${paced.rps} req/s (${paced.workers} workers)`;
  if (added < 0) return { target, measured: `direct's p99 was ${fmt(-added, 3)} ms above ours ${at}: the direct round was disturbed` };
  return { target, measured: `+${fmt(added, 3)} ms ${at}`, met: added <= 1 };
}

export function checkTargets(run: BenchRun): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ours = ourRatios(run.throughput.rows);
  const describeWorst = (pick: (r: (typeof ours)[number]) => number | undefined) => {
    const worst = ours.filter((o) => pick(o) !== undefined).sort((a, b) => (pick(a) ?? 0) - (pick(b) ?? 0))[0];
    return worst ? `worst ${fmt(pick(worst) ?? Number.NaN)}× (${worst.row.workload}, ${worst.row.workers} worker${worst.row.workers > 1 ? 's' : ''})` : 'not measured';
  };
  const minNode = minOf(ours.map((o) => o.ratios.toBestNode));
  checks.push({ target: 'ahead of every Node peer on every workload, ≥1.3× the best', measured: describeWorst((o) => o.ratios.toBestNode), ...(minNode !== undefined ? { met: minNode >= 1.3 } : {}) });
  const minNginx = minOf(ours.map((o) => o.ratios.toNginx));
  checks.push({ target: '≥0.6× nginx throughput', measured: describeWorst((o) => o.ratios.toNginx), ...(minNginx !== undefined ? { met: minNginx >= 0.6 } : {}) });

  checks.push(addedLatencyCheck(run));

  const reload100 = run.reload?.reloadTimes.find((t) => t.sites === 100);
  checks.push({
    target: 'reload of 100 sites ≤20 ms p50',
    measured: reload100 ? `${fmt(reload100.replyMs.p50)} ms p50 (${reload100.workers} workers, ${reload100.failed} failed)` : 'not measured',
    ...(reload100 ? { met: reload100.replyMs.p50 <= 20 && reload100.failed === 0 } : {}),
  });

  const underLoad = run.reload?.reloadsUnderLoad;
  const lost = underLoad ? underLoad.load.socketErrors + underLoad.load.non2xx : 0;
  checks.push({
    target: '0 failed requests across reloads',
    measured: underLoad ? `${lost} failed of ${underLoad.load.requests} during ${underLoad.reloads} reloads (${underLoad.reloadFailures} reloads answered an error)` : 'not measured',
    ...(underLoad ? { met: lost === 0 && underLoad.reloadFailures === 0 } : {}),
  });

  const status = run.reload?.statusUnderLoad;
  checks.push({
    target: '`status` p99 ≤5 ms under load',
    measured: status ? `${fmt(status.statusMs.p99)} ms p99 over ${status.statusMs.count} calls, ${status.statusFailures} failed` : 'not measured',
    ...(status ? { met: status.statusMs.p99 <= 5 && status.statusFailures === 0 } : {}),
  });

  // The image runs the compiled build, so that is the number the target is about when present.
  const idle = run.reload?.idleFootprints.find((f) => f.build === 'compiled') ?? run.reload?.idleFootprints[0];
  checks.push({
    target: 'idle master + 1 worker ≤120 MB RSS',
    measured: idle ? `${fmt(idle.totalRssMB, 1)} MB (master ${fmt(idle.masterRssMB, 1)} + worker ${fmt(idle.workerRssMB[0] ?? Number.NaN, 1)}), ${idle.build} build${idle.totalPrivateMB === undefined ? '' : `; ${fmt(idle.totalPrivateMB, 1)} MB of it private`}` : 'not measured',
    ...(idle ? { met: idle.totalRssMB <= 120 } : {}),
  });

  // Not in issue 8's list, but kubelet's exec probe times out after 1 s by default (DESIGN.md).
  const probe = run.reload?.probes.find((p) => p.when === 'under full load');
  checks.push({
    target: 'probe command under load well inside kubelet’s 1 s timeout (p99 ≤500 ms)',
    measured: probe ? `${fmt(probe.wallMs.p99, 0)} ms p99 (${probe.build} build), peak RSS ${probe.peakRssMB !== undefined ? `${fmt(probe.peakRssMB, 1)} MB` : 'n/a'}, ${probe.failed} failed` : 'not measured',
    ...(probe ? { met: probe.wallMs.p99 <= 500 && probe.failed === 0 } : {}),
  });
  return checks;
}

/** Issue 13's ratio targets, judged on the head-to-head comparisons (paired.ts) of one run. */
export function checkEngineTargets(run: BenchRun): TargetCheck[] {
  const paired = run.throughput.paired ?? [];
  const find = (candidate: string, baseline: string, workload: WorkloadId) => paired.find((c) => c.candidate.key === candidate && c.baseline.key === baseline && c.workload === workload);
  const ours = (workers: number, workload: WorkloadId) => find(systemKey(OURS, workers), systemKey(NGINX, workers), workload);
  const checks: TargetCheck[] = [];
  const ratioCheck = (target: string, comparisons: readonly (PairedComparison | undefined)[], min: number) => {
    const present = comparisons.filter((c): c is PairedComparison => c !== undefined);
    const worst = [...present].sort((a, b) => a.rpsRatio - b.rpsRatio)[0];
    checks.push({
      target,
      measured: worst ? present.map((c) => `${fmt(c.rpsRatio, 3)}× (${c.workload})`).join(', ') : 'not measured',
      ...(worst && present.length === comparisons.length ? { met: worst.rpsRatio >= min } : {}),
    });
  };
  for (const [workload, min] of [['small-get', 0.9], ['get-64k', 0.9], ['hosts-1000', 0.9], ['post-1m', 0.7]] as const) {
    ratioCheck(`${workload}, 1 worker: ≥${min}× nginx req/s`, [ours(1, workload)], min);
  }
  const most = Math.max(...run.workerCounts);
  if (most > 1) ratioCheck(`every workload, ${most} workers: ≥0.8× nginx req/s`, WORKLOADS.map((w) => ours(most, w.id)), 0.8);
  const all = run.workerCounts.flatMap((workers) => WORKLOADS.map((w) => ours(workers, w.id)));
  const measuredCpu = all.filter((c): c is PairedComparison => c !== undefined);
  const worstCpu = [...measuredCpu].sort((a, b) => b.cpuRatio - a.cpuRatio)[0];
  checks.push({
    target: 'CPU µs per request ≤1.4× nginx’s, every workload and worker count',
    measured: worstCpu ? `worst ${fmt(worstCpu.cpuRatio, 3)}× (${worstCpu.workload}, ${worstCpu.candidate.key})` : 'not measured',
    ...(worstCpu && measuredCpu.length === all.length ? { met: worstCpu.cpuRatio <= 1.4 } : {}),
  });
  const log = find(systemKey(OURS, 1, true), systemKey(OURS, 1), 'small-get');
  checks.push({
    target: 'access log on costs ≤15% of throughput (small GET, 1 worker)',
    measured: log ? `${fmt(log.rpsRatio, 3)}× req/s with it on, ${fmt(log.cpuRatio, 3)}× CPU per request` : 'not measured',
    ...(log ? { met: log.rpsRatio >= 0.85 } : {}),
  });
  return checks;
}
