// One pino logger per process. Every line is one JSON event; `event` is a stable name that
// tests and operators can match on, `msg` is for people.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Which role wrote the line: master, worker, reloader, ctl. */
  component: string;
  /** Extra fields on every line, such as a worker's relative PID. */
  bindings?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { pid: process.pid, component: options.component, ...options.bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
