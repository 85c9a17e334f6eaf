// Memory of processes read from /proc: a system's footprint is its whole process tree
// (nginx master + workers, our master + workers), summed.
import { readFileSync, readdirSync } from 'node:fs';

function statusField(pid: number, field: string): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined; // the process is gone
  }
}

export function rssBytes(pid: number): number {
  return statusField(pid, 'VmRSS') ?? 0;
}

/**
 * The part of a process's RSS no other process shares (USS: private clean + private dirty).
 * RSS also counts the pages of the Node binary that every Node process maps, so RSS summed over
 * a master and its workers counts that code once per process, where a pod's memory charge
 * counts it once.
 */
export function privateBytes(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    let kB = 0;
    for (const match of rollup.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kB += Number(match[1]);
    return kB * 1024;
  } catch {
    return 0; // the process is gone
  }
}

function parentOf(pid: number): number | undefined {
  try {
    // The command name (field 2) may contain spaces; the parent PID follows its closing ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `rootPid` and every descendant that is alive now. */
export function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const pending = [rootPid];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export function treeRssBytes(rootPid: number): number {
  return processTree(rootPid).reduce((sum, pid) => sum + rssBytes(pid), 0);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface CpuTicks {
  busy: number;
  /** Time the hypervisor ran something else while this machine wanted the CPU. */
  steal: number;
  total: number;
}

/** The whole machine's CPU time so far, from /proc/stat. */
export function cpuTicks(): CpuTicks {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, steal: fields[7] ?? 0, total };
}

/**
 * How busy the machine is with work that is not ours, sampled while the harness runs nothing:
 * other jobs on a shared machine skew every number, so each result records this.
 */
export async function backgroundCpuPercent(sampleMs = 500): Promise<number> {
  const before = cpuTicks();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = cpuTicks();
  const total = after.total - before.total;
  return total > 0 ? Math.round(((after.busy - before.busy) / total) * 100) : 0;
}

/** User + system CPU time used so far by every process in `rootPid`'s tree, in milliseconds. */
export function treeCpuMs(rootPid: number): number {
  const ticksPerSecond = 100; // USER_HZ; Linux reports /proc times in these units on every architecture we run on
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // exited between listing and reading
    }
  }
  return (ticks * 1000) / ticksPerSecond;
}
