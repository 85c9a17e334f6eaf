// One coarse clock for every timeout of a worker's data path. Client and upstream connections
// keep their deadline in a plain number and are visited once per DEADLINE_TICK_MS, instead of
// each arming (and, on every read, re-arming) a timer of its own: moving a deadline costs one
// assignment, and ten thousand idle connections cost one pass per tick.
import { DEADLINE_TICK_MS } from '../limits.ts';

/** Something with time limits: called once per tick with the current performance.now(). */
export interface Ticking {
  onTick(now: number): void;
}

const members = new Set<Ticking>();
let timer: NodeJS.Timeout | undefined;
let currentDate = '';
let currentDateSecond = -1;

function tick(): void {
  const now = performance.now();
  for (const member of members) member.onTick(now);
}

/** Visits `member` every tick until `unwatch`. */
export function watch(member: Ticking): void {
  members.add(member);
  // unref: pending deadlines alone must not keep a process alive.
  timer ??= setInterval(tick, DEADLINE_TICK_MS).unref();
}

export function unwatch(member: Ticking): void {
  members.delete(member);
  if (members.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** The HTTP `Date` value, formatted at most once per second. */
export function httpDate(): string {
  const nowMs = Date.now();
  const second = Math.floor(nowMs / 1000);
  if (second !== currentDateSecond) {
    currentDateSecond = second;
    currentDate = new Date(second * 1000).toUTCString();
  }
  return currentDate;
}
