// The small, fixed margins shutdown adds to `shutdown_timeout_secs`. The drain deadline is a
// deadline: the master exits at most SHUTDOWN_GRACE_MS after it, whatever its workers, the
// upstreams or the log pipe are doing (docs/architecture.md, "Shutdown deadlines"; the last log
// lines get EXIT_LOG_FLUSH_MS, in src/log.ts).

/** After its drain deadline a worker has this long to close upstream pools before it exits anyway. */
export const WORKER_CLOSE_GRACE_MS = 250;
/** A drained worker waits at most this long for its last metrics figures to reach the IPC channel. */
export const LAST_FIGURES_SEND_MS = 100;
/** A worker still running this long after its drain deadline is killed (SIGKILL) by the master. */
export const WORKER_KILL_GRACE_MS = 1_000;
/** The master exits at most this long after the drain deadline, killing any worker left. */
export const SHUTDOWN_GRACE_MS = 2_000;

/**
 * Resolves `graceMs` after a timer of `deadlineMs` has fired, never in the same turn. Timers due
 * together fire together, and on a starved event loop (a loaded machine) the deadline's and a
 * grace measured from the start both are: the grace would run out before the close events of
 * what the deadline cut, whose access lines and `drain_cut` counts would then be lost.
 */
export function graceAfterDeadline(deadlineMs: number, graceMs: number): Promise<'late'> {
  // The grace starts once the deadline's turn has run, close events included.
  return new Promise((resolve) => setTimeout(() => setTimeout(resolve, graceMs, 'late').unref(), deadlineMs).unref());
}
