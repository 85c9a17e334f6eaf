// The machine and program versions a run was made on, recorded with every result.
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { cpuTicks, type CpuTicks } from './proc.ts';
import { versionOf } from './tools.ts';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  nginx: string;
  haproxy: string;
  wrk: string;
  /**
   * Share of the machine's CPU time the hypervisor gave to others over the run, in percent: on a
   * shared host this is what makes one machine of a kind slower than another.
   */
  stealPercent?: number;
}

/** `since`: the machine's CPU time when the run began, for the steal over the run. */
export function describeMachine(since: CpuTicks): Machine {
  const now = cpuTicks();
  const total = now.total - since.total;
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']).replace(/^nginx version: /, ''),
    haproxy: versionOf('haproxy', ['-v']).replace(/ - https.*$/, ''),
    wrk: versionOf('wrk', ['--version']).replace(/ \[.*$/, ''),
    ...(total > 0 ? { stealPercent: Math.round(((now.steal - since.steal) / total) * 1000) / 10 } : {}),
  };
}
