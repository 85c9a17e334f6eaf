// How many workers `workers = "auto"` means: the CPUs this process may use, honouring a
// container's CPU quota (cgroup v2 cpu.max, or v1 cfs quota), which os.availableParallelism()
// alone may not see.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** CPUs allowed by the cgroup quota, or undefined when there is no quota. */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = readOrUndefined(`${root}/cpu.max`);
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || !quota || !period) return undefined;
    return Number(quota) / Number(period);
  }
  const quota = Number(readOrUndefined(`${root}/cpu/cpu.cfs_quota_us`));
  const period = Number(readOrUndefined(`${root}/cpu/cpu.cfs_period_us`));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

export function autoWorkerCount(): number {
  const limit = cgroupCpuLimit();
  const cpus = availableParallelism();
  return Math.max(1, limit === undefined ? cpus : Math.min(cpus, Math.ceil(limit)));
}
