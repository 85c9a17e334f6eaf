// Runs the real `reverse-proxy serve` binary in a temp dir for integration tests, and reads its
// JSON log lines so tests can wait for events instead of sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { sendCommand } from '../../src/admin/client.ts';

export const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
/** How long a test waits for a log event before failing with the log tail. */
export const DEFAULT_WAIT_MS = 15_000;

export type LogLine = Record<string, unknown> & { event?: string; msg?: string };

export interface ProxyOptions {
  /** TOML tables ([[sites]] …) appended to the harness preamble, or the whole file when `raw`. */
  config: string;
  workers?: number;
  raw?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Registers cleanup (kill + temp dir removal) on this test. */
  t?: TestContext;
}

export interface ProxyProcess {
  child: ChildProcess;
  pid: number;
  dir: string;
  configPath: string;
  socketPath: string;
  port: number;
  url: string;
  logs: LogLine[];
  stderr: string[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  writeConfig(config: string): Promise<void>;
  admin(command: string): Promise<string>;
  signal(signal: NodeJS.Signals): void;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function preamble(dir: string, workers: number): string {
  return `admin_socket_path = "${join(dir, 'admin.sock')}"
workers = ${workers}
shutdown_timeout_secs = 5

[logging]
level = "info"

[[listeners]]
address = "127.0.0.1"
port = 0

`;
}

/** Runs the CLI with Node 24 (the one running the tests). */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startProxy(options: ProxyOptions): Promise<ProxyProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-test-'));
  const configPath = join(dir, 'config.toml');
  const workers = options.workers ?? 1;
  const render = (config: string) => (options.raw ? config : preamble(dir, workers) + config);
  await writeFile(configPath, render(options.config));

  const child = spawnCli(['serve', '--config', configPath], { env: options.env });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    logs.push(line);
    for (const waiter of waiters) {
      if (waiter.predicate(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  createInterface({ input: child.stderr! }).on('line', (text) => stderr.push(text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = DEFAULT_WAIT_MS) => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { predicate, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        const tail = [...logs.slice(-10).map((l) => JSON.stringify(l)), ...stderr.slice(-10)].join('\n');
        reject(new Error(`log event not seen within ${timeoutMs} ms; last output:\n${tail}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  options.t?.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  });

  const ready = await Promise.race([
    waitForLog((l) => l.event === 'ready'),
    exited.then(({ code }) => {
      throw new Error(`proxy exited with code ${code} before ready:\n${stderr.join('\n')}\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
    }),
  ]);
  const listener = (ready.listeners as string[])[0]!;
  const port = Number(listener.slice(listener.lastIndexOf(':') + 1));
  const socketPath = join(dir, 'admin.sock');
  return {
    child,
    pid: child.pid!,
    dir,
    configPath,
    socketPath,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr,
    waitForLog,
    writeConfig: async (config) => {
      // Atomic like kubelet and editors that rename: the proxy never sees a half-written file.
      const tmp = `${configPath}.tmp`;
      await writeFile(tmp, render(config));
      await rename(tmp, configPath);
    },
    admin: (command) => sendCommand(socketPath, command),
    signal: (signal) => child.kill(signal),
    stop,
    exited,
  };
}

/** Collects a child's output and exit code, for short-lived commands like `check` and `ctl`. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
