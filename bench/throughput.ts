// The side-by-side part of `npm run bench`. All systems run at once (idle ones cost nothing),
// and each workload is measured in rounds that visit every system in turn, in a rotated order:
// on a shared machine a burst of someone else's work then lands on one round of several
// systems instead of all of one system's measurement. A system's figure is its median round.
// Pairs of systems named in a PairedPlan are then compared head to head (paired.ts), which is
// what the ratio targets are judged on.
// A system that fails to start is recorded and skipped; the rest of the run goes on.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LoadResult } from './load.ts';
import { comparePaired, describeComparison, type PairedComparison, type PairedSettings } from './paired.ts';
import { systemKey } from './compare.ts';
import { backgroundCpuPercent, treeRssBytes } from './proc.ts';
import { measuredRound } from './round.ts';
import { siteHosts } from './sites.ts';
import type { Family, Peer, RunningSystem } from './peers/types.ts';
import { WORKLOADS, type WorkloadId } from './workloads.ts';

export interface SystemUnderTest {
  peer: Peer;
  workers: number;
  accessLog?: boolean;
  /** Defaults to every workload. */
  workloads?: readonly WorkloadId[];
}

export interface LoadSettings {
  connections: number;
  /** Length of one round for one system. */
  durationSecs: number;
  rounds: number;
  /** Once per system, before any workload (JIT, pools, upstream connections). */
  systemWarmupSecs: number;
  /** Per system before each workload's rounds; 0 skips it. */
  workloadWarmupSecs: number;
}

/** Head-to-head comparisons (paired.ts) run after each workload's rounds, by system key. */
export interface PairedPlan {
  settings: PairedSettings;
  comparisons: readonly { candidate: string; baseline: string }[];
}

export interface ThroughputRow extends LoadResult {
  system: string;
  label: string;
  family: Family;
  workers: number;
  accessLog: boolean;
  workload: WorkloadId;
  /** req/s of every round; `rps` and the latencies are those of the median round. */
  roundsRps: number[];
  /**
   * CPU time the system's processes used per request, over all rounds. On a machine where the
   * load generator, upstream and proxy share the cores this is what decides throughput, and it
   * is far less sensitive to other jobs than req/s. For the ceiling it is the upstream's cost.
   */
  cpuUsPerRequest: number;
  /** Machine CPU busy with work not started by the harness, sampled before this workload. */
  backgroundCpuPct: number;
}

export interface FootprintRow {
  system: string;
  workers: number;
  accessLog: boolean;
  /** Whole process tree, after start and before any load. */
  idleRssMB: number;
  /** Whole process tree, after the last workload. */
  loadedRssMB: number;
}

export interface ThroughputResults {
  rows: ThroughputRow[];
  footprint: FootprintRow[];
  /** Absent in runs made before paired comparisons existed. */
  paired?: PairedComparison[];
  failures: string[];
}

const MB = 1024 * 1024;
const firstLine = (err: unknown) => (err as Error).message.split('\n')[0] ?? '';

interface Started {
  sut: SystemUnderTest;
  key: string;
  running: RunningSystem;
  idleRssMB: number;
}

async function startAll(systems: readonly SystemUnderTest[], upstreamPort: number, workDir: string, results: ThroughputResults, log: (line: string) => void): Promise<Started[]> {
  const hosts = siteHosts();
  const started: Started[] = [];
  for (const sut of systems) {
    const key = systemKey(sut.peer.id, sut.workers, sut.accessLog);
    const dir = join(workDir, key.replace(/[/+]/g, '_'));
    mkdirSync(dir, { recursive: true });
    try {
      const running = await sut.peer.start({ workers: sut.workers, upstreamPort, hosts, workDir: dir, accessLog: sut.accessLog ?? false });
      await sleep(300); // let start-up allocations settle before calling it idle
      started.push({ sut, key, running, idleRssMB: treeRssBytes(running.rootPid) / MB });
    } catch (err) {
      results.failures.push(`${key}: did not start: ${firstLine(err)}`);
      log(`  ${key}: did not start (${firstLine(err)})`);
    }
  }
  return started;
}

/** The round with the median throughput stands for the system. */
function medianRound(rounds: readonly LoadResult[]): LoadResult {
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor((sorted.length - 1) / 2)] as LoadResult;
}

async function runComparisons(plan: PairedPlan, measured: readonly Started[], workload: (typeof WORKLOADS)[number], results: ThroughputResults, log: (line: string) => void): Promise<void> {
  for (const { candidate, baseline } of plan.comparisons) {
    const c = measured.find((s) => s.key === candidate);
    const b = measured.find((s) => s.key === baseline);
    if (!c || !b) continue;
    try {
      const comparison = await comparePaired({ key: c.key, running: c.running }, { key: b.key, running: b.running }, workload, plan.settings);
      (results.paired ??= []).push(comparison);
      log(`  ${describeComparison(comparison)}`);
    } catch (err) {
      results.failures.push(`${candidate} ÷ ${baseline} ${workload.id}: ${firstLine(err)}`);
    }
  }
}

export async function measureThroughput(systems: readonly SystemUnderTest[], upstreamPort: number, settings: LoadSettings, workDir: string, log: (line: string) => void, plan?: PairedPlan): Promise<ThroughputResults> {
  const results: ThroughputResults = { rows: [], footprint: [], failures: [] };
  const started = await startAll(systems, upstreamPort, workDir, results, log);
  const load = (s: Started, workload: (typeof WORKLOADS)[number], durationSecs: number) => runLoad({ port: s.running.port, workload, connections: settings.connections, durationSecs });
  try {
    const small = WORKLOADS[0]!;
    if (settings.systemWarmupSecs > 0) for (const s of started) await load(s, small, settings.systemWarmupSecs);
    for (const workload of WORKLOADS) {
      const measured = started.filter((s) => !s.sut.workloads || s.sut.workloads.includes(workload.id));
      const backgroundCpuPct = await backgroundCpuPercent();
      const rounds = new Map<Started, LoadResult[]>(measured.map((s) => [s, []]));
      const cpuMs = new Map<Started, number>(measured.map((s) => [s, 0]));
      if (settings.workloadWarmupSecs > 0) for (const s of measured) await load(s, workload, settings.workloadWarmupSecs);
      for (let round = 0; round < settings.rounds; round++) {
        // Rotate the order each round so no system always follows the same neighbour.
        const order = measured.map((_, i) => measured[(i + round) % measured.length] as Started);
        for (const s of order) {
          try {
            const measuredLoad = await measuredRound(s.running, workload, settings.connections, settings.durationSecs);
            rounds.get(s)?.push(measuredLoad.load);
            cpuMs.set(s, (cpuMs.get(s) ?? 0) + measuredLoad.cpuMs);
          } catch (err) {
            results.failures.push(`${s.key} ${workload.id}: ${firstLine(err)}`);
          }
        }
      }
      for (const s of measured) {
        const all = rounds.get(s) ?? [];
        if (all.length === 0) continue;
        const median = medianRound(all);
        const { sut } = s;
        const row: ThroughputRow = {
          system: sut.peer.id, label: sut.peer.label, family: sut.peer.family, workers: sut.workers, accessLog: sut.accessLog ?? false, workload: workload.id,
          ...median,
          // Failures anywhere count, not only in the median round.
          socketErrors: all.reduce((n, r) => n + r.socketErrors, 0),
          non2xx: all.reduce((n, r) => n + r.non2xx, 0),
          roundsRps: all.map((r) => r.rps),
          cpuUsPerRequest: Math.round(((cpuMs.get(s) ?? 0) * 1000 * 10) / Math.max(1, all.reduce((n, r) => n + r.requests, 0))) / 10,
          backgroundCpuPct,
        };
        results.rows.push(row);
        log(`  ${s.key.padEnd(24)} ${workload.id.padEnd(11)} ${String(row.rps).padStart(7)} req/s (rounds ${row.roundsRps.join(', ')})  p50 ${row.latencyMs.p50} ms  p99 ${row.latencyMs.p99} ms  ${row.cpuUsPerRequest} µs CPU/req  errors ${row.socketErrors + row.non2xx}`);
      }
      if (plan) await runComparisons(plan, measured, workload, results, log);
    }
    for (const s of started) results.footprint.push({ system: s.sut.peer.id, workers: s.sut.workers, accessLog: s.sut.accessLog ?? false, idleRssMB: s.idleRssMB, loadedRssMB: treeRssBytes(s.running.rootPid) / MB });
  } finally {
    for (const s of started) await s.running.stop();
  }
  return results;
}
