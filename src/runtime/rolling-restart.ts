// `restart`'s walk over the pool: replace the workers one slot at a time, all or nothing per
// slot (docs/architecture.md, "Reload, restart, drain"). Kept apart from the pool's bookkeeping
// because the order is the whole point: an old worker is drained only after its replacement
// listens, so the shared listeners never lack a worker and no request fails.
import { WorkerStartError } from '../errors.ts';
import { RESPAWN_MIN_DELAY_MS } from './respawn-backoff.ts';
import type { WorkerProcess } from './worker-process.ts';
import type { Slot } from './worker-slot.ts';

/** How a rolling replacement ended. */
export interface ReplaceOutcome {
  /** Slots, from 1 up, whose worker now runs what `initFor` gave. */
  replaced: number;
  /** Why the next slot kept its worker and the replacement stopped there; absent on success. */
  failure?: WorkerStartError;
}

/** What the walk needs from the pool; the pool keeps the slots and the retiring workers. */
export interface RestartablePool {
  slotCount(): number;
  /** The slot of `relativePid`, created empty if the pool is growing. */
  slotFor(relativePid: number): Slot;
  /** Forks a worker into `slot` (it becomes the slot's current worker). */
  fork(slot: Slot): WorkerProcess;
  /** Counts `worker` as leaving: not reloaded, not respawned when it exits. */
  markRetiring(worker: WorkerProcess): void;
  /** Takes a worker marked retiring back into service. */
  unretire(worker: WorkerProcess): void;
  /** Drains `worker`; resolves once it exited. */
  retire(worker: WorkerProcess, drainTimeoutMs: number): Promise<void>;
  cancelRespawn(slot: Slot): void;
  scheduleRespawn(slot: Slot, delayMs: number): void;
  /** Removes the slots from `relativePid` up and returns them. */
  removeSlotsFrom(relativePid: number): Slot[];
}

/**
 * Replaces every worker one at a time with a freshly forked one, then trims or grows the pool
 * to `count`. When a replacement cannot start, the old worker keeps its slot (tracked, routed
 * to, reloaded) and the replacement stops there. If no slot was replaced the pool is left
 * exactly as it was; otherwise it is still trimmed to `count`, so it never holds more workers
 * than asked for.
 */
export async function replaceAll(pool: RestartablePool, count: number, drainTimeoutMs: number): Promise<ReplaceOutcome> {
  const slotsBefore = pool.slotCount();
  let replaced = 0;
  let failure: WorkerStartError | undefined;
  for (let relativePid = 1; relativePid <= count; relativePid++) {
    const slot = pool.slotFor(relativePid);
    const old = slot.current;
    if (old) pool.markRetiring(old);
    pool.cancelRespawn(slot);
    const next = pool.fork(slot);
    try {
      await next.ready;
    } catch (err) {
      failure = new WorkerStartError(relativePid, (err as Error).message);
      giveSlotBack(pool, slot, old, next, relativePid <= slotsBefore);
      break;
    }
    if (old) await pool.retire(old, drainTimeoutMs);
    replaced++;
  }
  if (failure && replaced === 0) return { replaced, failure };
  const extra = pool.removeSlotsFrom(count + 1);
  for (const slot of extra) pool.cancelRespawn(slot);
  await Promise.all(extra.flatMap((slot) => (slot.current ? [pool.retire(slot.current, drainTimeoutMs)] : [])));
  return failure ? { replaced, failure } : { replaced };
}

/**
 * Undoes one slot's replacement: the worker that failed to start is left to exit as a
 * retiree (never respawned), and the old worker, if it is still alive, is the slot's again.
 * A slot that had no live worker goes back to respawning; one that did not exist is removed.
 */
function giveSlotBack(pool: RestartablePool, slot: Slot, old: WorkerProcess | undefined, failed: WorkerProcess, existed: boolean): void {
  pool.markRetiring(failed);
  if (old && !old.worker.isDead()) {
    pool.unretire(old);
    slot.current = old;
    return;
  }
  slot.current = undefined;
  if (existed) pool.scheduleRespawn(slot, RESPAWN_MIN_DELAY_MS);
  else pool.removeSlotsFrom(slot.relativePid);
}
