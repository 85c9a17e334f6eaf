// The pool's rows of `show proc` (docs/admin-socket.md): one per slot, then one per old worker
// still draining after a restart, so an operator sees both processes while a slot changes hands.
import type { ProcessRow } from '../admin/backend.ts';
import { VERSION } from '../version.ts';
import type { WorkerProcess } from './worker-process.ts';
import type { Slot } from './worker-slot.ts';

export function processRows(slots: readonly Slot[], retiring: ReadonlySet<WorkerProcess>): ProcessRow[] {
  const current = slots.map((slot) => {
    const w = slot.current;
    const row: ProcessRow = {
      pid: w?.pid ?? 0,
      type: 'worker',
      relativePid: slot.relativePid,
      reloads: w?.reloads ?? 0,
      startedAt: w?.startedAt ?? Date.now(),
      version: VERSION,
      respawns: slot.respawns,
    };
    if (slot.respawnAt !== undefined) row.respawningInMs = Math.max(0, slot.respawnAt - Date.now());
    if (slot.failedStarts > 0) row.failedStarts = slot.failedStarts;
    return row;
  });
  return [...current, ...oldRows(slots, retiring)];
}

/** Workers replaced by a restart that are still running out their drain. */
function oldRows(slots: readonly Slot[], retiring: ReadonlySet<WorkerProcess>): ProcessRow[] {
  return [...retiring]
    .filter((w) => !w.worker.isDead() && !slots.some((s) => s.current === w))
    .map((w) => {
      const row: ProcessRow = { pid: w.pid, type: 'worker', relativePid: w.slot, reloads: w.reloads, startedAt: w.startedAt, version: VERSION, respawns: 0, old: true, generation: w.generationId };
      if (w.drainingSince !== undefined) row.drainingForMs = Date.now() - w.drainingSince;
      return row;
    });
}
