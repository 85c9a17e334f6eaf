// Every bound the admin socket enforces, in one place so docs/admin-socket.md and the tests
// name the same numbers. Each one keeps a hostile or broken client from stalling or
// exhausting the process that owns the socket.

/** Longest command line accepted, in bytes, not counting the `\n` (or `\r\n`) that ends it. */
export const MAX_LINE_BYTES = 4096;

/**
 * Time a client has, from connecting, to send its complete command line. A silent or
 * trickling client is answered with a timeout error and closed, so it never holds a slot.
 */
export const COMMAND_READ_TIMEOUT_MS = 5_000;

/**
 * Concurrent connections per socket. When a new client arrives at the limit, the oldest
 * connection still waiting for its command line is closed to make room (slow clients can
 * therefore never lock out a readiness probe); if every connection is busy, the new client
 * is answered with an error and closed. Sized so that a burst of 200 simultaneous clients is
 * served rather than refused: a connection costs one descriptor and at most one line of buffer.
 */
export const MAX_ADMIN_CONNECTIONS = 256;

/** Interactive (`prompt`) sessions per socket; kept well below the connection limit. */
export const MAX_PROMPT_SESSIONS = 8;

/** An interactive session with no complete command line for this long is closed. */
export const PROMPT_IDLE_TIMEOUT_MS = 120_000;

/** A client that does not read its reply within this time is disconnected. */
export const REPLY_WRITE_TIMEOUT_MS = 5_000;

/** How long the master waits for a worker to answer a routed command (`@1 show info`). */
export const WORKER_REPLY_TIMEOUT_MS = 5_000;

/** How long start-up waits for a process already on the socket path to accept a probe. */
export const LIVENESS_PROBE_TIMEOUT_MS = 1_000;

/** The limits one admin socket runs with; tests shorten the timers, the runtime uses the defaults. */
export interface AdminLimits {
  maxConnections: number;
  maxPromptSessions: number;
  commandReadTimeoutMs: number;
  promptIdleTimeoutMs: number;
  replyWriteTimeoutMs: number;
  workerReplyTimeoutMs: number;
}

export const DEFAULT_ADMIN_LIMITS: Readonly<AdminLimits> = Object.freeze({
  maxConnections: MAX_ADMIN_CONNECTIONS,
  maxPromptSessions: MAX_PROMPT_SESSIONS,
  commandReadTimeoutMs: COMMAND_READ_TIMEOUT_MS,
  promptIdleTimeoutMs: PROMPT_IDLE_TIMEOUT_MS,
  replyWriteTimeoutMs: REPLY_WRITE_TIMEOUT_MS,
  workerReplyTimeoutMs: WORKER_REPLY_TIMEOUT_MS,
});
