// Reload and admin-socket benchmarks of issue 8: reload reply time by site count, reloads
// while load runs, `status` latency and the probe command under full load, idle footprint.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { timedCommand } from './admin.ts';
import { runLoad, type LoadResult } from './load.ts';
import { startOurInstance } from './our-instance.ts';
import { measureFootprint, measureProbe, type ProbeSummary, type ProcessFootprint } from './probe.ts';
import { siteHosts } from './sites.ts';
import { distribution, type Distribution } from './stats.ts';
import { WORKLOADS } from './workloads.ts';

export interface ReloadTiming {
  sites: number;
  workers: number;
  replyMs: Distribution;
  failed: number;
  firstFailure?: string;
}

export interface ReloadsUnderLoad {
  workers: number;
  reloads: number;
  reloadFailures: number;
  replyMs: Distribution;
  load: LoadResult;
}

export interface StatusUnderLoad {
  workers: number;
  statusMs: Distribution;
  statusFailures: number;
  probeUnderLoad: ProbeSummary;
  load: LoadResult;
}

export interface ReloadSettings {
  siteCounts: readonly number[];
  reloadsPerCount: number;
  reloadsUnderLoad: number;
  statusSecs: number;
  probeRuns: number;
  connections: number;
  workers: number;
}

export interface ReloadResults {
  reloadTimes: ReloadTiming[];
  reloadsUnderLoad?: ReloadsUnderLoad;
  statusUnderLoad?: StatusUnderLoad;
  probeIdle?: ProbeSummary;
  idleFootprint?: ProcessFootprint;
  failures: string[];
}

const SMALL_GET = WORKLOADS[0]!;

async function reloadTiming(workDir: string, upstreamPort: number, sites: number, workers: number, repeats: number): Promise<ReloadTiming> {
  const instance = await startOurInstance(workDir, { workers, upstreamPort, hosts: siteHosts(sites), accessLog: false });
  try {
    const samples: number[] = [];
    let failed = 0;
    let firstFailure: string | undefined;
    for (let i = 0; i < repeats; i++) {
      const reply = await instance.reloadChanged();
      samples.push(reply.ms);
      if (!reply.ok) {
        failed++;
        firstFailure ??= reply.reply.trim();
      }
    }
    return { sites, workers, replyMs: distribution(samples), failed, ...(firstFailure ? { firstFailure } : {}) };
  } finally {
    await instance.stop();
  }
}

/** Reloads back to back for as long as the load runs; the load is stopped when they are done. */
async function reloadsUnderLoad(workDir: string, upstreamPort: number, s: ReloadSettings): Promise<ReloadsUnderLoad> {
  const instance = await startOurInstance(workDir, { workers: s.workers, upstreamPort, hosts: siteHosts(10), accessLog: false });
  try {
    const stopLoad = new AbortController();
    // Generous cap: the reload loop normally ends the load long before this.
    const load = runLoad({ port: instance.system.port, workload: SMALL_GET, connections: s.connections, durationSecs: 10 + Math.ceil(s.reloadsUnderLoad / 10), signal: stopLoad.signal });
    await sleep(500);
    const samples: number[] = [];
    let reloadFailures = 0;
    for (let i = 0; i < s.reloadsUnderLoad; i++) {
      const reply = await instance.reloadChanged();
      samples.push(reply.ms);
      if (!reply.ok) reloadFailures++;
    }
    await sleep(250); // requests started on the last generation finish inside the window
    stopLoad.abort();
    return { workers: s.workers, reloads: s.reloadsUnderLoad, reloadFailures, replyMs: distribution(samples), load: await load };
  } finally {
    await instance.stop();
  }
}

async function statusUnderLoad(workDir: string, upstreamPort: number, s: ReloadSettings): Promise<{ status: StatusUnderLoad; probeIdle: ProbeSummary }> {
  const instance = await startOurInstance(workDir, { workers: s.workers, upstreamPort, hosts: siteHosts(10), accessLog: false });
  try {
    const probeIdle = await measureProbe(instance.socket, s.probeRuns);
    const load = runLoad({ port: instance.system.port, workload: SMALL_GET, connections: s.connections, durationSecs: s.statusSecs + 2 + s.probeRuns });
    await sleep(1_000); // the load reaches full rate first
    const samples: number[] = [];
    let statusFailures = 0;
    const until = performance.now() + s.statusSecs * 1000;
    while (performance.now() < until) {
      const reply = await timedCommand(instance.socket, 'status');
      samples.push(reply.ms);
      if (!reply.ok) statusFailures++;
      await sleep(10);
    }
    const probeUnderLoad = await measureProbe(instance.socket, s.probeRuns);
    return { status: { workers: s.workers, statusMs: distribution(samples), statusFailures, probeUnderLoad, load: await load }, probeIdle };
  } finally {
    await instance.stop();
  }
}

async function idleFootprint(workDir: string, upstreamPort: number): Promise<ProcessFootprint> {
  const instance = await startOurInstance(workDir, { workers: 1, upstreamPort, hosts: siteHosts(10), accessLog: false });
  try {
    await sleep(2_000);
    return await measureFootprint(instance.socket);
  } finally {
    await instance.stop();
  }
}

export async function measureReloads(upstreamPort: number, s: ReloadSettings, workDir: string, log: (line: string) => void): Promise<ReloadResults> {
  const results: ReloadResults = { reloadTimes: [], failures: [] };
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (err) {
      results.failures.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      log(`  ${what}: failed (${(err as Error).message.split('\n')[0]})`);
    }
  };
  for (const sites of s.siteCounts) {
    await attempt(`reload ${sites} sites`, async () => {
      const timing = await reloadTiming(join(workDir, `reload-${sites}`), upstreamPort, sites, s.workers, s.reloadsPerCount);
      results.reloadTimes.push(timing);
      log(`  reload, ${sites} sites, ${s.workers} workers: p50 ${timing.replyMs.p50} ms  p99 ${timing.replyMs.p99} ms  failed ${timing.failed}`);
    });
  }
  await attempt('reloads under load', async () => {
    const r = await reloadsUnderLoad(join(workDir, 'reload-load'), upstreamPort, s);
    results.reloadsUnderLoad = r;
    log(`  ${r.reloads} reloads under load: reload failures ${r.reloadFailures}, requests ${r.load.requests}, socket errors ${r.load.socketErrors}, non-2xx ${r.load.non2xx}`);
  });
  await attempt('status under load', async () => {
    const { status, probeIdle } = await statusUnderLoad(join(workDir, 'status-load'), upstreamPort, s);
    results.statusUnderLoad = status;
    results.probeIdle = probeIdle;
    log(`  status under load: p50 ${status.statusMs.p50} ms  p99 ${status.statusMs.p99} ms (${status.statusMs.count} samples, ${status.statusFailures} failed)`);
    log(`  probe idle: wall p50 ${probeIdle.wallMs.p50} ms, peak RSS ${probeIdle.peakRssMB?.toFixed(1)} MB; under load: wall p50 ${status.probeUnderLoad.wallMs.p50} ms p99 ${status.probeUnderLoad.wallMs.p99} ms`);
  });
  await attempt('idle footprint', async () => {
    const f = await idleFootprint(join(workDir, 'idle'), upstreamPort);
    results.idleFootprint = f;
    log(`  idle RSS: master ${f.masterRssMB.toFixed(1)} MB + worker ${f.workerRssMB.map((w) => w.toFixed(1)).join(', ')} MB = ${f.totalRssMB.toFixed(1)} MB`);
  });
  return results;
}
