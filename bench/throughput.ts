// The side-by-side part of `npm run bench`: each system started once per worker count with the
// shared site set, warmed up, then every workload measured with the same wrk settings. A system
// that fails to start is recorded and skipped; the rest of the run goes on.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LoadResult } from './load.ts';
import { backgroundCpuPercent, treeRssBytes } from './proc.ts';
import { siteHosts } from './sites.ts';
import type { Family, Peer } from './peers/types.ts';
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
  durationSecs: number;
  /** Once per system, before its first workload (JIT, pools, upstream connections). */
  systemWarmupSecs: number;
  /** Before each workload; 0 skips it. */
  workloadWarmupSecs: number;
}

export interface ThroughputRow extends LoadResult {
  system: string;
  label: string;
  family: Family;
  workers: number;
  accessLog: boolean;
  workload: WorkloadId;
  /** Machine CPU busy with other work just before this system started, percent of all cores. */
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
  failures: string[];
}

/** Stable key for one system configuration, e.g. `nginx/2w` or `reverse-proxy/1w+log`. */
export function systemKey(id: string, workers: number, accessLog = false): string {
  return `${id}/${workers}w${accessLog ? '+log' : ''}`;
}

const MB = 1024 * 1024;

export async function measureThroughput(systems: readonly SystemUnderTest[], upstreamPort: number, settings: LoadSettings, workDir: string, log: (line: string) => void): Promise<ThroughputResults> {
  const results: ThroughputResults = { rows: [], footprint: [], failures: [] };
  const hosts = siteHosts();
  for (const sut of systems) {
    const accessLog = sut.accessLog ?? false;
    const key = systemKey(sut.peer.id, sut.workers, accessLog);
    const dir = join(workDir, key.replace(/[/+]/g, '_'));
    mkdirSync(dir, { recursive: true });
    const backgroundCpuPct = await backgroundCpuPercent();
    let running;
    try {
      running = await sut.peer.start({ workers: sut.workers, upstreamPort, hosts, workDir: dir, accessLog });
    } catch (err) {
      results.failures.push(`${key}: did not start: ${(err as Error).message.split('\n')[0]}`);
      log(`  ${key}: did not start (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    try {
      await sleep(500); // let start-up allocations settle before calling it idle
      const idleRssMB = treeRssBytes(running.rootPid) / MB;
      const small = WORKLOADS[0];
      if (small && settings.systemWarmupSecs > 0) await runLoad({ port: running.port, workload: small, connections: settings.connections, durationSecs: settings.systemWarmupSecs });
      for (const workload of WORKLOADS.filter((w) => !sut.workloads || sut.workloads.includes(w.id))) {
        if (settings.workloadWarmupSecs > 0) await runLoad({ port: running.port, workload, connections: settings.connections, durationSecs: settings.workloadWarmupSecs });
        const result = await runLoad({ port: running.port, workload, connections: settings.connections, durationSecs: settings.durationSecs });
        results.rows.push({ system: sut.peer.id, label: sut.peer.label, family: sut.peer.family, workers: sut.workers, accessLog, workload: workload.id, backgroundCpuPct, ...result });
        log(`  ${key.padEnd(24)} ${workload.id.padEnd(11)} ${String(result.rps).padStart(7)} req/s  p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms  errors ${result.socketErrors}  non-2xx ${result.non2xx}`);
      }
      results.footprint.push({ system: sut.peer.id, workers: sut.workers, accessLog, idleRssMB, loadedRssMB: treeRssBytes(running.rootPid) / MB });
    } catch (err) {
      results.failures.push(`${key}: ${(err as Error).message.split('\n')[0]}`);
      log(`  ${key}: failed (${(err as Error).message.split('\n')[0]})`);
    } finally {
      await running.stop();
    }
  }
  return results;
}
