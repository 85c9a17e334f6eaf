// Ratios between systems measured in the same run: to nginx and to the best Node peer, at the
// same worker count and workload. Used by the README tables and the target checks alike.
import type { ThroughputRow } from './throughput.ts';
import type { WorkloadId } from './workloads.ts';

export const OURS = 'reverse-proxy';
export const NGINX = 'nginx';

/** Stable key for one system configuration, e.g. `nginx/2w` or `reverse-proxy/1w+log`. */
export function systemKey(id: string, workers: number, accessLog = false): string {
  return `${id}/${workers}w${accessLog ? '+log' : ''}`;
}

function find(rows: readonly ThroughputRow[], system: string, workers: number, workload: WorkloadId): ThroughputRow | undefined {
  return rows.find((r) => r.system === system && r.workers === workers && r.workload === workload && !r.accessLog);
}

function bestNodePeer(rows: readonly ThroughputRow[], workers: number, workload: WorkloadId): ThroughputRow | undefined {
  return rows
    .filter((r) => r.family === 'node' && r.workers === workers && r.workload === workload)
    .reduce<ThroughputRow | undefined>((best, r) => (!best || r.rps > best.rps ? r : best), undefined);
}

export interface Ratios {
  toNginx?: number;
  toBestNode?: number;
}

export function ratiosFor(rows: readonly ThroughputRow[], row: ThroughputRow): Ratios {
  const nginx = find(rows, NGINX, row.workers, row.workload);
  const node = bestNodePeer(rows, row.workers, row.workload);
  const ratio = (base?: ThroughputRow) => (base && base.rps > 0 ? Math.round((row.rps / base.rps) * 100) / 100 : undefined);
  return { toNginx: ratio(nginx), toBestNode: ratio(node) };
}

/** Our rows (access log off) with their ratios, one per workload and worker count. */
export function ourRatios(rows: readonly ThroughputRow[]): { row: ThroughputRow; ratios: Ratios }[] {
  return rows.filter((r) => r.system === OURS && !r.accessLog).map((row) => ({ row, ratios: ratiosFor(rows, row) }));
}
