// Child processes of the harness: output goes to a log file (never a pipe the harness must
// drain while it measures), readiness is waited for with a deadline, and stop() always ends
// with the process gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, with its code or signal. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnLogged(command: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Child {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: process.cwd(), env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ?? `exit ${code}`);
    });
    child.once('error', (err) => {
      running = false;
      resolve(`spawn error: ${err.message}`);
    });
  });
  return {
    process: child,
    pid: child.pid ?? 0,
    logFile,
    exited,
    isRunning: () => running,
    async stop(graceMs = 5_000) {
      if (!running) return;
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(forced);
    },
  };
}

function readLog(child: Child): string {
  try {
    return readFileSync(child.logFile, 'utf8');
  } catch {
    return '';
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `ready` until it holds; a child that never gets ready is stopped, never leaked. */
export async function waitUntilReady(child: Child, what: string, timeoutMs: number, ready: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.isRunning()) throw new Error(`${what}: process exited (${await child.exited}); log ${child.logFile}:\n${readLog(child).slice(-2000)}`);
    if (await ready()) return;
    await sleep(25);
  }
  await child.stop();
  throw new Error(`${what}: not ready within ${timeoutMs} ms; log ${child.logFile}:\n${readLog(child).slice(-2000)}`);
}

export function waitForPort(child: Child, port: number, timeoutMs = 15_000): Promise<void> {
  return waitUntilReady(child, `port ${port}`, timeoutMs, () => canConnect(port));
}
