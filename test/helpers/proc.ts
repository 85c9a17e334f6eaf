// What /proc says about the processes a test started: memory, syscall counts, children, and
// whether a process still exists. Linux only.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The number after `field:` in /proc/<pid>/<file>. */
export async function procNumber(pid: number, file: 'status' | 'io', field: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/${file}`, 'utf8');
  const value = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text);
  assert.ok(value, `${field} readable in /proc/${pid}/${file}`);
  return Number(value[1]);
}

export const rssBytes = async (pid: number) => (await procNumber(pid, 'status', 'VmRSS')) * 1024;
/** Write syscalls (write, writev) the process has made so far, all threads. */
export const writeSyscalls = (pid: number) => procNumber(pid, 'io', 'syscw');

/** PIDs of the direct children of `pid`. */
export function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The worker is the master's only child with workers = 1. */
export function workerPid(masterPid: number): number {
  const children = childPids(masterPid);
  assert.equal(children.length, 1, 'one worker process');
  return children[0]!;
}

/** The parent PID of a running process. */
export function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** True while `pid` exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false; // gone between the two reads
  }
}
