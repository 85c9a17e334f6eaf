// Reload and admin-socket benchmarks of issue 8: reload reply time by site count, reloads
// while load runs, `status` latency and the probe command under full load, idle footprint.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { timedCommand } from './admin.ts';
import { runLoad, type LoadResult } from './load.ts';
import { startOurInstance } from './our-instance.ts';
import { measureFootprint, measureProbe, type ProbeSummary, type ProcessFootprint } from './probe.ts';
import { CLI_SOURCES } from './our-instance.ts';
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
  /** The compiled build's cli.js, when it built: memory and probes are measured on it. */
  compiledCli?: string;
  /** Also measure memory and the probe from the sources (type stripping), for comparison. */
  alsoFromSources: boolean;
}

export interface ReloadResults {
  reloadTimes: ReloadTiming[];
  reloadsUnderLoad?: ReloadsUnderLoad;
  statusUnderLoad?: StatusUnderLoad;
  probes: ProbeSummary[];
  idleFootprints: ProcessFootprint[];
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

async function statusUnderLoad(workDir: string, upstreamPort: number, s: ReloadSettings): Promise<{ status: StatusUnderLoad; probes: ProbeSummary[] }> {
  const instance = await startOurInstance(workDir, { workers: s.workers, upstreamPort, hosts: siteHosts(10), accessLog: false });
  const [probeCli, probeBuild] = s.compiledCli ? [s.compiledCli, 'compiled' as const] : [CLI_SOURCES, 'sources' as const];
  try {
    const probes = [await measureProbe(probeCli, probeBuild, 'idle', instance.socket, s.probeRuns)];
    if (s.compiledCli && s.alsoFromSources) probes.push(await measureProbe(CLI_SOURCES, 'sources', 'idle', instance.socket, s.probeRuns));
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
    probes.push(await measureProbe(probeCli, probeBuild, 'under full load', instance.socket, s.probeRuns));
    return { status: { workers: s.workers, statusMs: distribution(samples), statusFailures, load: await load }, probes };
  } finally {
    await instance.stop();
  }
}

async function idleFootprint(workDir: string, upstreamPort: number, build: ProcessFootprint['build'], cli?: string): Promise<ProcessFootprint> {
  const instance = await startOurInstance(workDir, { workers: 1, upstreamPort, hosts: siteHosts(10), accessLog: false }, cli);
  try {
    await sleep(2_000);
    return await measureFootprint(instance.socket, build);
  } finally {
    await instance.stop();
  }
}

export async function measureReloads(upstreamPort: number, s: ReloadSettings, workDir: string, log: (line: string) => void): Promise<ReloadResults> {
  const results: ReloadResults = { reloadTimes: [], probes: [], idleFootprints: [], failures: [] };
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
    const { status, probes } = await statusUnderLoad(join(workDir, 'status-load'), upstreamPort, s);
    results.statusUnderLoad = status;
    results.probes = probes;
    log(`  status under load: p50 ${status.statusMs.p50} ms  p99 ${status.statusMs.p99} ms (${status.statusMs.count} samples, ${status.statusFailures} failed)`);
    for (const p of probes) log(`  probe (${p.build}, ${p.when}): wall p50 ${p.wallMs.p50} ms p99 ${p.wallMs.p99} ms, peak RSS ${p.peakRssMB?.toFixed(1)} MB, ${p.failed} failed`);
  });
  const builds: [ProcessFootprint['build'], string | undefined][] = s.compiledCli ? [['compiled', s.compiledCli]] : [];
  if (!s.compiledCli || s.alsoFromSources) builds.push(['sources', undefined]);
  for (const [build, cli] of builds) {
    await attempt(`idle footprint (${build})`, async () => {
      const f = await idleFootprint(join(workDir, `idle-${build}`), upstreamPort, build, cli);
      results.idleFootprints.push(f);
      log(`  idle RSS (${build}): master ${f.masterRssMB.toFixed(1)} MB + worker ${f.workerRssMB.map((w) => w.toFixed(1)).join(', ')} MB = ${f.totalRssMB.toFixed(1)} MB`);
    });
  }
  return results;
}
