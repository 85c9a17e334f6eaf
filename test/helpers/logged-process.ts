// A child process whose stdout is JSON log lines (pino), kept so a scenario can wait for an
// event instead of sleeping, and show the tail of the log when something does not happen.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown> & { event?: string; msg?: string };

/** How long a test waits for a log event before failing with the log tail. */
export const DEFAULT_WAIT_MS = 15_000;

export interface LoggedProcess {
  name: string;
  child: ChildProcess;
  logs: LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The last lines of output, for failure messages. */
  tail(lines?: number): string;
  /**
   * Makes the reader of the child's stdout slow or absent, as a stalled log shipper would be:
   * `paused` stops reading (the pipe fills), `slow` reads one chunk per `pauseMs`, `normal` reads
   * everything at once again.
   */
  readStdout(mode: 'normal' | 'paused' | { slow: number }): void;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startLogged(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): LoggedProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const onLine = (text: string) => {
    raw.push(text);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    logs.push(line);
    for (const w of waiters) if (w.predicate(line)) (waiters.delete(w), w.resolve(line));
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let slowReader: (() => void) | undefined;
  const tail = (lines = 15) => `--- ${name} (last ${lines} lines)\n${raw.slice(-lines).join('\n')}`;
  return {
    name,
    child,
    logs,
    exited,
    tail,
    readStdout(mode) {
      const stdout = child.stdout!;
      if (slowReader) stdout.off('data', slowReader);
      slowReader = undefined;
      if (mode === 'paused') return void stdout.pause();
      if (mode !== 'normal') {
        const pauseMs = mode.slow;
        slowReader = () => {
          stdout.pause();
          setTimeout(() => slowReader && stdout.resume(), pauseMs);
        };
        stdout.on('data', slowReader);
      }
      stdout.resume();
    },
    waitForLog(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${name}: expected log line not seen within ${timeoutMs} ms\n${tail()}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
