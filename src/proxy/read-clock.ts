// The time the data path stamps its events with. Handling one socket read marks many moments
// (a request's start, its upstream pick, deadlines moved, the first response byte, its end), and
// each performance.now() is a clock_gettime: together 3% of a worker's user time on small GETs
// (perf, bench/findings.md). While a read is being handled they all take the moment that read
// began, µs from the real time; outside a read (timers, connects, write callbacks) the clock is
// read as before.
import { performance } from 'node:perf_hooks';

/** performance.now() when the read being handled began; 0 outside one. */
let readBeganAt = 0;

/** The current time in performance.now() milliseconds, as the data path counts it. */
export function now(): number {
  return readBeganAt !== 0 ? readBeganAt : performance.now();
}

/** Starts handling a read: the clock holds until endRead(), which gets what this returns. */
export function beginRead(): number {
  const outer = readBeganAt;
  readBeganAt = performance.now();
  return outer;
}

export function endRead(outer: number): void {
  readBeganAt = outer;
}
