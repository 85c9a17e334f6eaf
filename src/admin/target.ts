// The routing words of the master CLI (`@1`, `@!4242`, `@master`, a bare `@`) and how they map
// to the processes the backend reports.
import type { ProcessRow, Target } from './backend.ts';

/** The target a routing word names, or undefined when the word is not a valid one. */
export function parseTarget(word: string): Target | undefined {
  if (word === '@' || word === '@master') return { kind: 'master' };
  const byPid = /^@!([0-9]{1,10})$/.exec(word);
  if (byPid) return { kind: 'pid', pid: Number(byPid[1]) };
  const byRelative = /^@([0-9]{1,6})$/.exec(word);
  if (byRelative) return { kind: 'relative', relativePid: Number(byRelative[1]) };
  return undefined;
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'master':
      return '@master';
    case 'relative':
      return `@${target.relativePid}`;
    case 'pid':
      return `@!${target.pid}`;
  }
}

/** The interactive prompt shown while `target` is the default: `master> `, `1> `, `!4242> `. */
export function promptFor(target: Target): string {
  return target.kind === 'master' ? 'master> ' : `${describeTarget(target).slice(1)}> `;
}

type Resolution =
  | { kind: 'master' }
  | { kind: 'worker'; target: Exclude<Target, { kind: 'master' }> }
  | { kind: 'error'; message: string };

/** Where a target lands today: the master, a live worker, or a reason it cannot be reached. */
export function resolveTarget(target: Target, processes: readonly ProcessRow[]): Resolution {
  if (target.kind === 'master') return { kind: 'master' };
  // `@1` is slot 1's current worker; an old worker of that slot is reached by its PID only.
  const row = processes.find((p) => (target.kind === 'relative' ? p.relativePid === target.relativePid && !p.old : p.pid === target.pid && p.pid !== 0));
  if (row === undefined) return { kind: 'error', message: `no such process: ${describeTarget(target)}` };
  if (row.type === 'master') return { kind: 'master' };
  if (row.respawningInMs !== undefined) {
    return { kind: 'error', message: `process ${describeTarget(target)} is being respawned (next attempt in ${Math.ceil(row.respawningInMs)} ms)` };
  }
  return { kind: 'worker', target };
}
