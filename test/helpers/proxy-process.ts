// Runs the real `reverse-proxy serve` binary in a temp dir for integration tests, and reads its
// JSON log lines so tests can wait for events instead of sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { sendCommand } from '../../src/admin/client.ts';
import { startLogged, type LoggedProcess } from './logged-process.ts';

export { DEFAULT_WAIT_MS, type LogLine } from './logged-process.ts';

/** How long a test waits for `restart`: it forks each worker in turn and waits for it to listen, seconds on a busy machine (ctl waits 30 s). */
export const RESTART_REPLY_MS = 60_000;

/**
 * How long a test waits for `serve` to be ready: the master and each worker load (and strip the
 * types of) every module first, well over 15 s when a loaded 2-core machine gives them little CPU.
 */
export const READY_WAIT_MS = 60_000;

export const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');


export interface ProxyOptions {
  /** TOML tables ([[sites]] …) appended to the harness preamble, or the whole file when `raw`. */
  config: string;
  workers?: number;
  /** `[logging] access_log`; on by default, as in the product. */
  accessLog?: boolean;
  /** `shutdown_timeout_secs`; 5 by default. */
  shutdownTimeoutSecs?: number;
  /** More top-level (static) keys for the preamble, e.g. `client_body_timeout_secs = 1`. */
  staticKeys?: string;
  raw?: boolean;
  /** The harness listener serves https: `true` says `tls = true` (the config brings [[certificates]]), PEM files use the tls_cert/tls_key shorthand. */
  tls?: true | { cert: string; key: string };
  env?: NodeJS.ProcessEnv;
  /** An executable to start instead of `node src/cli.ts` (bin/reverse-proxy.js, through its shebang). */
  entry?: string;
  /** Registers cleanup (kill + temp dir removal) on this test. */
  t?: TestContext;
}

/** The running `serve` process: its logs (LoggedProcess) plus what a test needs to drive it. */
export interface ProxyProcess extends LoggedProcess {
  pid: number;
  dir: string;
  configPath: string;
  socketPath: string;
  port: number;
  url: string;
  writeConfig(config: string): Promise<void>;
  /** One admin command; `timeoutMs` (default: the client's 5 s) for a restart, which drains workers. */
  admin(command: string, timeoutMs?: number): Promise<string>;
  signal(signal: NodeJS.Signals): void;
}

/** A `[[sites]]` block for `host`, sending to `upstream`, with `extra` keys. */
export const site = (host: string, upstream: string, extra = '') => `[[sites]]\nhost = "${host}"\nupstream = "${upstream}"\n${extra}\n`;

export function preamble(dir: string, workers: number, accessLog = true, tls?: true | { cert: string; key: string }, shutdownTimeoutSecs = 5, staticKeys = ''): string {
  return `admin_socket_path = "${join(dir, 'admin.sock')}"
workers = ${workers}
shutdown_timeout_secs = ${shutdownTimeoutSecs}
${staticKeys}

[logging]
level = "info"
access_log = ${accessLog}

[[listeners]]
address = "127.0.0.1"
port = 0
${tls === true ? 'tls = true\n' : tls ? `tls_cert = "${tls.cert}"\ntls_key = "${tls.key}"\n` : ''}
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
  const render = (config: string) => (options.raw ? config : preamble(dir, workers, options.accessLog, options.tls, options.shutdownTimeoutSecs, options.staticKeys) + config);
  await writeFile(configPath, render(options.config));

  const serve = ['serve', '--config', configPath];
  const proxy = options.entry === undefined ? startLogged('proxy', process.execPath, [CLI, ...serve], options.env) : startLogged('proxy', options.entry, serve, options.env);
  const { child, exited } = proxy;
  options.t?.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  });

  const ready = await Promise.race([
    proxy.waitForLog((l) => l.event === 'ready', READY_WAIT_MS),
    exited.then(({ code }) => {
      throw new Error(`proxy exited with code ${code} before ready:\n${proxy.tail(30)}`);
    }),
  ]);
  const listener = (ready.listeners as string[])[0]!;
  const port = Number(listener.slice(listener.lastIndexOf(':') + 1));
  const socketPath = join(dir, 'admin.sock');
  return {
    ...proxy,
    pid: child.pid!,
    dir,
    configPath,
    socketPath,
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    writeConfig: async (config) => {
      // Atomic like kubelet and editors that rename: the proxy never sees a half-written file.
      const tmp = `${configPath}.tmp`;
      await writeFile(tmp, render(config));
      await rename(tmp, configPath);
    },
    admin: (command, timeoutMs) => sendCommand(socketPath, command, timeoutMs),
    signal: (signal) => child.kill(signal),
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

/** Writes `text` to `dir/name` and runs `reverse-proxy check` on it, as an operator would. */
export async function checkConfigText(dir: string, name: string, text: string): Promise<{ file: string; code: number | null; stdout: string; stderr: string }> {
  const file = join(dir, name);
  await writeFile(file, text);
  return { file, ...(await runCli(['check', '--config', file])) };
}

export interface ProcRow {
  pid: number;
  type: string;
  relativePid: number;
}

/** Rows of a `show proc` reply that name a process, in the master-and-workers section or under `# old workers`. */
export function procRows(text: string, section: 'current' | 'old' = 'current'): ProcRow[] {
  const [current = '', old = ''] = text.split('\n# old workers\n');
  return (section === 'current' ? current : old)
    .split('\n')
    .filter((line) => /^\d+\s/.test(line))
    .map((line) => {
      const [pid, type, relativePid] = line.split(/\s+/);
      return { pid: Number(pid), type: type!, relativePid: Number(relativePid) };
    });
}

/**
 * The master and the workers that hold slots (a respawning slot shows `-` and is left out);
 * old workers still draining after a restart are not among them.
 */
export async function showProc(proxy: ProxyProcess): Promise<ProcRow[]> {
  return procRows(await proxy.admin('show proc'));
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of the processes `pid` forked that still exist: what the kernel says, not what show proc says. */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b);
}
