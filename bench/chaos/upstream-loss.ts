// The upstream dies (kill -9) and comes back on the same port while load runs. Expected: 200s
// before, 502s (never hangs or other errors) while it is down, 200s again soon after it is back.
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from '../load.ts';
import { startOurInstance, type OurInstance } from '../our-instance.ts';
import { siteHosts } from '../sites.ts';
import { startUpstream } from '../upstream.ts';
import { WORKLOADS } from '../workloads.ts';
import type { ChaosScenario } from '../results.ts';
import type { ChaosSettings } from './settings.ts';

interface Sample {
  atMs: number;
  /** 0: no HTTP response at all. */
  status: number;
}

/** One request at a time, every few ms, until `stop`: a timeline of what a client saw. */
async function probe(port: number, stop: AbortSignal, start: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  while (!stop.aborted) {
    const atMs = performance.now() - start;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/small`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      samples.push({ atMs, status: res.status });
    } catch {
      samples.push({ atMs, status: 0 });
    }
    await sleep(5);
  }
  return samples;
}

const countBy = (samples: readonly Sample[]) => Object.fromEntries([...new Set(samples.map((s) => s.status))].map((st) => [st, samples.filter((x) => x.status === st).length]));

export async function upstreamLoss(s: ChaosSettings): Promise<ChaosScenario> {
  const dir = `${s.workDir}/upstream-loss`;
  mkdirSync(dir, { recursive: true });
  let upstream = await startUpstream(dir);
  let instance: OurInstance | undefined;
  try {
    instance = await startOurInstance(dir, { workers: 2, upstreamPort: upstream.port, hosts: siteHosts(10), accessLog: false });
    const phaseMs = (s.loadSecs * 1000) / 3;
    const start = performance.now();
    const stopProbe = new AbortController();
    const timeline = probe(instance.system.port, stopProbe.signal, start);
    const load = runLoad({ port: instance.system.port, workload: WORKLOADS[0]!, connections: 8, durationSecs: s.loadSecs });
    await sleep(phaseMs);
    const killedAt = performance.now() - start;
    upstream.child.process.kill('SIGKILL');
    await upstream.child.exited;
    await sleep(phaseMs);
    const restartedAt = performance.now() - start;
    upstream = await startUpstream(dir, upstream.port);
    const upAt = performance.now() - start;
    const loadResult = await load;
    stopProbe.abort();
    const samples = await timeline;

    const before = samples.filter((x) => x.atMs < killedAt);
    const down = samples.filter((x) => x.atMs >= killedAt && x.atMs < upAt);
    const firstOkAfter = samples.find((x) => x.atMs >= upAt && x.status === 200);
    const recoveryMs = firstOkAfter ? firstOkAfter.atMs - upAt : undefined;
    const afterRecovery = firstOkAfter ? samples.filter((x) => x.atMs > firstOkAfter.atMs) : [];
    // A request already in flight when the upstream died may still complete: allow 200s at the start of the window.
    const wrongWhileDown = down.filter((x) => x.status !== 502 && x.status !== 200);
    const passed = before.every((x) => x.status === 200) && wrongWhileDown.length === 0 && recoveryMs !== undefined && recoveryMs < 2_000 && afterRecovery.every((x) => x.status === 200);
    return {
      name: 'upstream dies and returns',
      passed,
      summary: `probe statuses before ${JSON.stringify(countBy(before))}, while down ${JSON.stringify(countBy(down))}, after ${JSON.stringify(countBy(afterRecovery))}; recovered ${recoveryMs === undefined ? 'never' : `${Math.round(recoveryMs)} ms`} after the upstream listened again (upstream restart itself took ${Math.round(upAt - restartedAt)} ms); wrk: ${loadResult.non2xx} responses ≥ 400, ${loadResult.socketErrors} socket errors of ${loadResult.requests.toLocaleString('en')}`,
      details: { killedAtMs: killedAt, upAtMs: upAt, recoveryMs, probeBefore: countBy(before), probeWhileDown: countBy(down), probeAfter: countBy(afterRecovery), load: loadResult },
    };
  } finally {
    // This scenario's own upstream must go even if the proxy never started: a live child
    // process would keep the harness from exiting.
    await instance?.stop();
    await upstream.child.stop();
  }
}
