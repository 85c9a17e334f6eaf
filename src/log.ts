// One pino logger per process. Every line is one JSON event; `event` is a stable name that
// tests and operators can match on, `msg` is for people. Lines go to stdout through one
// LogWriter per process, which never blocks and drops (and counts) lines when stdout falls
// too far behind (src/log-writer.ts).
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { LogWriter, MAX_LOG_BACKLOG_BYTES, nonBlocking } from './log-writer.ts';

export type { Logger };

interface LoggerOptions {
  level: LevelWithSilent;
  /** Which role wrote the line: master, worker, reloader, ctl. */
  component: string;
  /** Extra fields on every line, such as a worker's relative PID. */
  bindings?: Record<string, unknown>;
}

/** How long a process about to exit lets its last log lines wait for a slow stdout. */
export const EXIT_LOG_FLUSH_MS = 250;

const writers = new Map<1 | 2, LogWriter>();

/** This process's writer for stdout (1) or stderr (2); the master relays its workers' output through them. */
export function processWriter(fd: 1 | 2): LogWriter {
  let writer = writers.get(fd);
  if (!writer) {
    const created = new LogWriter(nonBlocking(fd));
    // Whatever ends the process, what the descriptor can take right now still goes out; never more.
    process.once('exit', () => created.flush());
    writers.set(fd, created);
    writer = created;
  }
  return writer;
}

export function createLogger(options: LoggerOptions): Logger {
  const writer = processWriter(1);
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid, component: options.component, ...options.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    writer,
  );
  writer.reportDrops ??= (dropped, total) =>
    logger.warn(
      { event: 'log_lines_dropped', dropped, dropped_total: total, backlog_limit_bytes: MAX_LOG_BACKLOG_BYTES },
      `stdout fell behind: ${dropped} log line(s) dropped (${total} since start)`,
    );
  return logger;
}

/**
 * Gives the lines still waiting for stdout up to `timeoutMs` to go out, then drops the rest:
 * a process about to exit calls this so its last lines are seen without a slow or dead stdout
 * holding the exit.
 */
export async function flushLogs(timeoutMs: number): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.flushWithin(timeoutMs)));
}
