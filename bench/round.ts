// One round of load against one system, with the CPU time its process tree spent meanwhile:
// the unit both the rotated rounds (throughput.ts) and the head-to-head pairs (paired.ts) count.
import { runLoad, type LoadResult } from './load.ts';
import type { RunningSystem } from './peers/types.ts';
import { treeCpuMs } from './proc.ts';
import type { Workload } from './workloads.ts';

export interface MeasuredRound {
  load: LoadResult;
  cpuMs: number;
}

export async function measuredRound(running: RunningSystem, workload: Workload, connections: number, durationSecs: number): Promise<MeasuredRound> {
  const cpuBefore = treeCpuMs(running.rootPid);
  const load = await runLoad({ port: running.port, workload, connections, durationSecs });
  return { load, cpuMs: treeCpuMs(running.rootPid) - cpuBefore };
}
