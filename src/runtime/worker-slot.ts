// A numbered place in the pool (its relative PID, 1..N) that outlives the workers filling it:
// the respawn count, the crash streak and a pending respawn belong to the slot, not to a process.
import type { WorkerProcess } from './worker-process.ts';

export interface Slot {
  relativePid: number;
  current: WorkerProcess | undefined;
  respawns: number;
  /** Workers forked for this slot that never got listening (crashed at start, timed out). */
  failedStarts: number;
  consecutiveCrashes: number;
  respawnTimer: NodeJS.Timeout | undefined;
  respawnAt: number | undefined;
}

export function emptySlot(relativePid: number): Slot {
  return { relativePid, current: undefined, respawns: 0, failedStarts: 0, consecutiveCrashes: 0, respawnTimer: undefined, respawnAt: undefined };
}
