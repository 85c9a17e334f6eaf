// The small, fixed margins shutdown adds to `shutdown_timeout_secs`. The drain deadline is a
// deadline: the master exits at most SHUTDOWN_GRACE_MS after it, whatever its workers, the
// upstreams or the log pipe are doing (docs/architecture.md, "Shutdown").

/** After its drain deadline a worker has this long to close upstream pools before it exits anyway. */
export const WORKER_CLOSE_GRACE_MS = 250;
/** How long a process about to exit lets its last log lines wait for a slow stdout. */
export const EXIT_LOG_FLUSH_MS = 250;
/** A worker still running this long after its drain deadline is killed (SIGKILL) by the master. */
export const WORKER_KILL_GRACE_MS = 1_000;
/** The master exits at most this long after the drain deadline, killing any worker left. */
export const SHUTDOWN_GRACE_MS = 2_000;
