// What kubelet pays for: the readiness probe command (`ctl status`) run as a fresh process,
// its wall time and peak RSS measured by GNU time; and the idle memory of master + workers.
import { execFile } from 'node:child_process';
import { showProc } from './admin.ts';
import { PUBLISHED_NODE_FLAGS } from './our-instance.ts';
import { privateBytes, rssBytes } from './proc.ts';
import { distribution, type Distribution } from './stats.ts';
import { findProgram } from './tools.ts';

export interface ProbeRun {
  wallMs: number;
  /** Undefined when GNU time is not installed. */
  peakRssMB?: number;
  exitCode: number;
}

export interface ProbeSummary {
  /** Which CLI ran: the compiled build (as in the image) or the sources. */
  build: 'compiled' | 'sources';
  when: 'idle' | 'under full load';
  runs: number;
  failed: number;
  wallMs: Distribution;
  peakRssMB?: number;
}

function runOnce(cli: string, socket: string): Promise<ProbeRun> {
  const gnuTime = findProgram('time');
  const probe = [process.execPath, ...PUBLISHED_NODE_FLAGS, cli, 'ctl', 'status', '--socket', socket];
  const [command, args] = gnuTime ? [gnuTime, ['-v', ...probe]] : [probe[0] ?? process.execPath, probe.slice(1)];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000 }, (err, _stdout, stderr) => {
      const wallMs = performance.now() - started;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      const exitCode = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ wallMs, exitCode, ...(rss ? { peakRssMB: Number(rss) / 1024 } : {}) });
    });
  });
}

export async function measureProbe(cli: string, build: ProbeSummary['build'], when: ProbeSummary['when'], socket: string, runs: number): Promise<ProbeSummary> {
  const results: ProbeRun[] = [];
  for (let i = 0; i < runs; i++) results.push(await runOnce(cli, socket));
  const rss = results.map((r) => r.peakRssMB).filter((v): v is number => v !== undefined);
  return {
    build,
    when,
    runs,
    failed: results.filter((r) => r.exitCode !== 0).length,
    wallMs: distribution(results.map((r) => r.wallMs)),
    ...(rss.length > 0 ? { peakRssMB: Math.max(...rss) } : {}),
  };
}

export interface ProcessFootprint {
  build: 'compiled' | 'sources';
  masterRssMB: number;
  workerRssMB: number[];
  totalRssMB: number;
  /** Memory of master and workers not shared with any other process (see privateBytes); absent in results from before 2026-11-30. */
  totalPrivateMB?: number;
}

/** RSS of every process `show proc` lists, master and workers separately. */
export async function measureFootprint(socket: string, build: ProcessFootprint['build']): Promise<ProcessFootprint> {
  const rows = await showProc(socket);
  const mb = (pid: number) => rssBytes(pid) / (1024 * 1024);
  const master = rows.filter((r) => r.type === 'master');
  const workers = rows.filter((r) => r.type === 'worker' && r.pid > 0);
  const masterRssMB = master.reduce((sum, r) => sum + mb(r.pid), 0);
  const workerRssMB = workers.map((r) => mb(r.pid));
  const totalPrivateMB = [...master, ...workers].reduce((sum, r) => sum + privateBytes(r.pid), 0) / (1024 * 1024);
  return { build, masterRssMB, workerRssMB, totalRssMB: masterRssMB + workerRssMB.reduce((a, b) => a + b, 0), totalPrivateMB };
}
