// `npm run bench [-- --quick]`: every system side by side on the same upstream and workloads,
// then the reload/admin-socket benchmarks of our proxy; writes results and regenerates README.
// Bounded: about 15 minutes by default, ≤3 minutes with --quick (2-core machine).
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureAddedLatency } from './added-latency.ts';
import { OURS, systemKey } from './compare.ts';
import { buildCompiledCli } from './build.ts';
import { describeMachine } from './machine.ts';
import { cpuTicks } from './proc.ts';
import { directPeer } from './peers/direct.ts';
import { haproxyPeer } from './peers/haproxy.ts';
import { nginxPeer } from './peers/nginx.ts';
import { fastifyProxyPeer, httpProxyPeer } from './peers/node-peers.ts';
import { reverseProxyPeer } from './peers/reverse-proxy.ts';
import { measureReloads, type ReloadSettings } from './reload.ts';
import { publishRun } from './report.ts';
import type { BenchRun } from './results.ts';
import { measureThroughput, type LoadSettings, type PairedPlan, type SystemUnderTest } from './throughput.ts';
import { GNU_TIME, HAPROXY, NGINX, requireTools, WRK } from './tools.ts';
import { startUpstream } from './upstream.ts';

const quick = process.argv.includes('--quick');
requireTools([WRK, NGINX, HAPROXY, GNU_TIME]);

const CONNECTIONS = 32;
const load: LoadSettings = quick
  ? { connections: CONNECTIONS, durationSecs: 1, rounds: 1, systemWarmupSecs: 1, workloadWarmupSecs: 0 }
  : { connections: CONNECTIONS, durationSecs: 2, rounds: 3, systemWarmupSecs: 2, workloadWarmupSecs: 1 };
const workerCounts = [...new Set([1, availableParallelism()])];
// The ratio targets (issue 13) are judged head to head: ours against nginx at each worker
// count, and ours with its access log against ours without.
const paired: PairedPlan = {
  settings: quick ? { pairs: 2, roundSecs: 1, connections: CONNECTIONS } : { pairs: 24, roundSecs: 1, connections: CONNECTIONS },
  comparisons: [
    ...workerCounts.map((workers) => ({ candidate: systemKey(reverseProxyPeer.id, workers), baseline: systemKey(nginxPeer.id, workers) })),
    { candidate: systemKey(reverseProxyPeer.id, 1, true), baseline: systemKey(reverseProxyPeer.id, 1) },
  ],
};
const maxWorkers = Math.max(...workerCounts);
const reloadSettings: ReloadSettings = {
  siteCounts: [10, 100, 1_000],
  reloadsPerCount: quick ? 5 : 50,
  reloadsUnderLoad: quick ? 100 : 1_000,
  statusSecs: quick ? 2 : 5,
  probeRuns: quick ? 3 : 10,
  connections: CONNECTIONS,
  workers: maxWorkers,
  alsoFromSources: !quick,
};
const pacedSecs = quick ? 1 : 5;

const log = (line: string) => process.stdout.write(`${line}\n`);
const startedAt = new Date().toISOString();
const startTicks = cpuTicks();
const workDir = mkdtempSync(join(tmpdir(), 'bench-run-'));
log(`bench: ${quick ? 'quick' : 'full'} run, workers ${workerCounts.join(' and ')}, scratch ${workDir}`);

const upstream = await startUpstream(workDir);
try {
  const direct = directPeer(upstream.child);
  const systems: SystemUnderTest[] = [{ peer: direct, workers: 1 }];
  for (const workers of workerCounts) {
    for (const peer of [reverseProxyPeer, nginxPeer, haproxyPeer, httpProxyPeer, fastifyProxyPeer]) systems.push({ peer, workers });
  }
  // The access log's cost, measured once, where it is largest: small requests, one worker.
  systems.push({ peer: reverseProxyPeer, workers: 1, accessLog: true, workloads: ['small-get'] });

  log('throughput:');
  const throughput = await measureThroughput(systems, upstream.port, load, workDir, log, paired);

  const ourMax = throughput.rows.find((r) => r.system === OURS && r.workers === maxWorkers && r.workload === 'small-get' && !r.accessLog);
  log('added latency at half load:');
  const addedLatency = ourMax
    ? await measureAddedLatency([{ peer: direct, workers: 1 }, { peer: reverseProxyPeer, workers: maxWorkers }, { peer: nginxPeer, workers: maxWorkers }], upstream.port, Math.round(ourMax.rps / 2), pacedSecs, workDir, log)
    : undefined;
  if (!addedLatency) log('  skipped: no throughput measured for our proxy');

  log('reloads and admin socket:');
  const compiledCli = buildCompiledCli(log);
  const reload = await measureReloads(upstream.port, { ...reloadSettings, ...(compiledCli ? { compiledCli } : {}) }, workDir, log);

  const run: BenchRun = {
    kind: 'bench',
    mode: quick ? 'quick' : 'full',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: describeMachine(startTicks),
    workerCounts,
    load,
    throughput,
    ...(addedLatency ? { addedLatency } : {}),
    reload,
  };
  publishRun(run, log);
} finally {
  await upstream.child.stop();
}
