// Latency a proxy adds at half of its own maximum rate (issue 8 target: p99 ≤ 1 ms more than
// going direct). The same paced load is offered to the upstream directly and through each
// proxy; the difference in p99 is what the proxy adds.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './load.ts';
import { siteHosts } from './sites.ts';
import type { Peer } from './peers/types.ts';
import { pacedSmallGet } from './workloads.ts';

export interface PacedRow {
  system: string;
  workers: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 minus the direct run's p99; undefined for the direct run itself. */
  addedP99Ms?: number;
}

export interface AddedLatencyResults {
  targetRps: number;
  connections: number;
  delayMs: number;
  rows: PacedRow[];
  failures: string[];
}

const DELAY_MS = 1;
/** Round trip through a proxy on this machine, used to size the connection count. */
const ASSUMED_LATENCY_MS = 0.5;

export async function measureAddedLatency(peers: readonly { peer: Peer; workers: number }[], upstreamPort: number, targetRps: number, durationSecs: number, workDir: string, log: (line: string) => void): Promise<AddedLatencyResults> {
  // Each connection sends one request per (delay + latency); enough connections to offer the target.
  const connections = Math.max(1, Math.round((targetRps * (DELAY_MS + ASSUMED_LATENCY_MS)) / 1000));
  const results: AddedLatencyResults = { targetRps, connections, delayMs: DELAY_MS, rows: [], failures: [] };
  let directP99: number | undefined;
  for (const { peer, workers } of peers) {
    const dir = join(workDir, `paced-${peer.id}-${workers}`);
    mkdirSync(dir, { recursive: true });
    try {
      const running = await peer.start({ workers, upstreamPort, hosts: siteHosts(), workDir: dir, accessLog: false });
      try {
        const workload = pacedSmallGet(DELAY_MS);
        await runLoad({ port: running.port, workload, connections, durationSecs: 1 });
        const r = await runLoad({ port: running.port, workload, connections, durationSecs });
        if (peer.family === 'ceiling') directP99 = r.latencyMs.p99;
        const row: PacedRow = { system: peer.id, workers, rps: r.rps, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99 };
        if (peer.family !== 'ceiling' && directP99 !== undefined) row.addedP99Ms = Math.round((r.latencyMs.p99 - directP99) * 1000) / 1000;
        results.rows.push(row);
        log(`  paced ${peer.id}/${workers}w: ${r.rps} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms${row.addedP99Ms !== undefined ? `  (${row.addedP99Ms >= 0 ? '+' : ''}${row.addedP99Ms} ms p99 over direct)` : ''}`);
      } finally {
        await running.stop();
      }
    } catch (err) {
      results.failures.push(`paced ${peer.id}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return results;
}
