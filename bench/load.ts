// wrk as the load generator: one thread (the other core is left to the system under test and
// the upstream), a Lua done() hook that prints exact numbers as JSON, and a hard deadline.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProgram } from './tools.ts';
import type { Workload } from './workloads.ts';

export interface LoadResult {
  requests: number;
  durationSecs: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Connect/read/write failures and timeouts: requests that got no response. */
  socketErrors: number;
  /** Responses with status ≥ 400 (wrk counts these as "status" errors). */
  non2xx: number;
}

export interface LoadOptions {
  port: number;
  workload: Workload;
  connections: number;
  durationSecs: number;
  /** Stops wrk early (SIGINT: wrk still prints its summary). */
  signal?: AbortSignal;
  /** `https` for a TLS listener (wrk does not verify the certificate). Default `http`. */
  scheme?: 'http' | 'https';
}

const REPORT_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

interface WrkReport {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Made on the first run, so importing this module (the bench's unit tests do) writes nothing. */
let scriptDir: string | undefined;
let scriptCounter = 0;

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const wrk = findProgram('wrk');
  if (!wrk) throw new Error('wrk is not installed (apt-get install -y wrk)');
  scriptDir ??= mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(scriptDir, `${options.workload.id}-${scriptCounter++}.lua`);
  writeFileSync(script, options.workload.lua + REPORT_LUA);
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationSecs}s`, '--timeout', '10s', '-s', script, `${options.scheme ?? 'http'}://127.0.0.1:${options.port}${options.workload.path}`];
  return new Promise((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const stop = () => child.kill('SIGINT');
    options.signal?.addEventListener('abort', stop, { once: true });
    // wrk stops itself after -d; this only guards against a wedged process.
    const deadline = setTimeout(() => child.kill('SIGKILL'), (options.durationSecs + 30) * 1000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', stop);
      const line = output.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (!line) return reject(new Error(`wrk gave no summary:\n${output.slice(-1500)}`));
      resolve(toLoadResult(JSON.parse(line.slice('BENCH_JSON '.length)) as WrkReport));
    });
  });
}

function toLoadResult(r: WrkReport): LoadResult {
  const durationSecs = r.duration_us / 1e6;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    requests: r.requests,
    durationSecs,
    rps: Math.round(r.requests / durationSecs),
    latencyMs: { p50: ms(r.p50), p90: ms(r.p90), p99: ms(r.p99), max: ms(r.max) },
    socketErrors: r.connect + r.read + r.write + r.timeout,
    non2xx: r.status,
  };
}
