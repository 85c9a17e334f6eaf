// How long a dead worker's slot waits before it is forked again. A worker that crashes right
// after starting would otherwise be re-forked in a tight loop, burning the CPU its siblings
// serve traffic with; one that ran a while died of something else and comes back at once.

/** First respawn delay after a crash; doubles with each quick crash in a row. */
export const RESPAWN_MIN_DELAY_MS = 100;
/** Respawn delay never exceeds this, however long a crash loop lasts. */
const RESPAWN_MAX_DELAY_MS = 10_000;
/** A worker that ran this long before dying is not part of a crash loop: backoff restarts. */
const RESPAWN_STABLE_UPTIME_MS = 10_000;

/** The slot's crash streak after a worker that ran `ranForMs` died. */
export function crashStreakAfter(previousStreak: number, ranForMs: number): number {
  return ranForMs >= RESPAWN_STABLE_UPTIME_MS ? 0 : previousStreak + 1;
}

/** The respawn delay for a slot with `crashesInARow` quick crashes behind it. */
export function respawnDelayMs(crashesInARow: number): number {
  return Math.min(RESPAWN_MAX_DELAY_MS, crashesInARow === 0 ? 0 : RESPAWN_MIN_DELAY_MS * 2 ** (crashesInARow - 1));
}
