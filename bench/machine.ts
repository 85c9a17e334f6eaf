// The machine and program versions a run was made on, recorded with every result.
import { availableParallelism, cpus, release, totalmem } from 'node:os';
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
}

export function describeMachine(): Machine {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nginx: versionOf('nginx', ['-v']).replace(/^nginx version: /, ''),
    haproxy: versionOf('haproxy', ['-v']).replace(/ - https.*$/, ''),
    wrk: versionOf('wrk', ['--version']).replace(/ \[.*$/, ''),
  };
}
