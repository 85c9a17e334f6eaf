// The small, fixed margins shutdown adds to `shutdown_timeout_secs`. The drain deadline is a
// deadline: the master exits at most SHUTDOWN_GRACE_MS after it, whatever its workers, the
// upstreams or the log pipe are doing (docs/architecture.md, "Shutdown deadlines"; the last log
// lines get EXIT_LOG_FLUSH_MS, in src/log.ts).

/** After its drain deadline's cut a worker has this long for what is still open to close (logged as `drain_incomplete` if not) before it exits anyway. */
export const WORKER_CLOSE_GRACE_MS = 250;
/** A drained worker waits at most this long for its last metrics figures to reach the IPC channel. */
export const LAST_FIGURES_SEND_MS = 100;
/** A worker still running this long after its drain deadline is killed (SIGKILL) by the master. */
export const WORKER_KILL_GRACE_MS = 1_000;
/** The master exits at most this long after the drain deadline, killing any worker left. */
export const SHUTDOWN_GRACE_MS = 2_000;
