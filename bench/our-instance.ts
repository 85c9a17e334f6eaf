// Our proxy as a process the harness drives: a TOML config written by the harness, `serve`
// started with the same Node that runs the harness and the flags of the published entry (from
// the sources, or the compiled build), and the operations the reload, probe and chaos runs
// need: rewrite the config atomically (as kubelet does) and reload it.
import { mkdirSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { timedCommand, type TimedReply } from './admin.ts';
import { spawnLogged, waitForPort, waitUntilReady } from './child.ts';
import { closedPort } from '../test/helpers/ports.ts';
import { ENTRY_FLAGS_VARIABLE, SMALL_YOUNG_GENERATION_FLAG } from '../src/runtime/worker-flags.ts';
import type { RunningSystem } from './peers/types.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
/** The CLI run from the sources (type stripping); see build.ts for the compiled one. */
export const CLI_SOURCES = join(REPO_ROOT, 'src', 'cli.ts');
/** The Node flags bin/reverse-proxy.js (the image's entry) starts every command with. */
export const PUBLISHED_NODE_FLAGS = [SMALL_YOUNG_GENERATION_FLAG];
/** The environment bin/reverse-proxy.js's shebang adds: it names those flags as the entry's own. */
const PUBLISHED_ENV = { ...process.env, [ENTRY_FLAGS_VARIABLE]: PUBLISHED_NODE_FLAGS.join(' ') };

export interface OurConfig {
  port: number;
  workers: number;
  adminSocket: string;
  upstreamPort: number;
  hosts: readonly string[];
  accessLog: boolean;
  /** Flips a dynamic setting so consecutive reloads each apply a real change. */
  variant?: number;
  /** A catch-all site (the default); without it, unknown hosts get 404. */
  defaultSite?: boolean;
  /** Port of the master's `[metrics]` listener on 127.0.0.1; absent means metrics off. */
  metricsPort?: number;
  /** TOML written under every named site, such as its `[[sites.routes]]` tables; a function writes each site's own. */
  siteTables?: string | ((siteIndex: number) => string);
  /** Serve HTTPS with these certificates (the first is the default) instead of plain HTTP. */
  certificates?: readonly { certPath: string; keyPath: string }[];
}

export function ourConfigToml(c: OurConfig): string {
  const upstream = `"http://127.0.0.1:${c.upstreamPort}"`;
  const via = (c.variant ?? 0) % 2 === 1;
  const tables = (i: number) => (typeof c.siteTables === 'function' ? c.siteTables(i) : (c.siteTables ?? ''));
  const sites = c.hosts.map((h, i) => `[[sites]]\nhost = "${h}"\nupstream = ${upstream}\nvia = ${via}\n${tables(i)}`);
  return `admin_socket_path = "${c.adminSocket}"
workers = ${c.workers}
shutdown_timeout_secs = 5

[logging]
level = "${c.accessLog ? 'info' : 'warn'}"
access_log = ${c.accessLog}

[[listeners]]
address = "127.0.0.1"
port = ${c.port}
tls = ${c.certificates !== undefined}
${(c.certificates ?? []).map((p) => `\n[[certificates]]\ncert = "${p.certPath}"\nkey = "${p.keyPath}"\n`).join('')}
${c.metricsPort === undefined ? '' : `\n[metrics]\naddress = "127.0.0.1"\nport = ${c.metricsPort}\n`}
${c.defaultSite === false ? '' : `[[sites]]\ndefault = true\nupstream = ${upstream}\n`}
${sites.join('\n')}`;
}

/**
 * Starts `serve` on `configPath` (already written). Ready means what a user sees: `status`
 * answers ok on the admin socket and the listener accepts. (The `ready` log event is at info
 * level, which the throughput runs turn off.)
 */
async function startOurs(configPath: string, workDir: string, port: number, adminSocket: string, cli = CLI_SOURCES): Promise<RunningSystem> {
  const child = spawnLogged(process.execPath, [...PUBLISHED_NODE_FLAGS, cli, 'serve', '--config', configPath], join(workDir, 'stdout.log'), PUBLISHED_ENV);
  await waitUntilReady(child, 'reverse-proxy status ok', 30_000, async () => (await timedCommand(adminSocket, 'status', 1_000)).ok);
  await waitForPort(child, port);
  return { port, rootPid: child.pid, stop: () => child.stop(10_000) };
}

/**
 * The proxy reads a config file only once it has been unmodified for 25 ms (CONFIG_QUIET_MS in
 * src/config/load.ts: a file written in place may be half-written). In a pod the reloader's
 * debounce keeps that wait off the path, so the harness dates each complete file one second
 * back: the number measured is the reload, not the deliberate wait.
 */
const SETTLED_AGE_MS = 1_000;

export interface OurInstance {
  system: RunningSystem;
  socket: string;
  config: OurConfig;
  /** Replaces the config file in one rename (as kubelet does), so no reload reads it half-written. */
  writeConfig(text: string): void;
  /** Writes the next variant of the config (a real dynamic change) and reloads. */
  reloadChanged(): Promise<TimedReply>;
  stop(): Promise<void>;
}

/** `cli`: the compiled build's cli.js instead of the sources. */
export async function startOurInstance(workDir: string, options: Omit<OurConfig, 'port' | 'adminSocket'>, cli?: string): Promise<OurInstance> {
  mkdirSync(workDir, { recursive: true });
  const port = await closedPort();
  const socket = join(workDir, 'admin.sock');
  const configPath = join(workDir, 'config.toml');
  const config: OurConfig = { ...options, port, adminSocket: socket, variant: 0 };
  const writeConfig = (text: string) => {
    writeFileSync(`${configPath}.tmp`, text);
    const settled = new Date(Date.now() - SETTLED_AGE_MS);
    utimesSync(`${configPath}.tmp`, settled, settled);
    renameSync(`${configPath}.tmp`, configPath);
  };
  writeConfig(ourConfigToml(config));
  const system = await startOurs(configPath, workDir, port, socket, cli);
  return {
    system,
    socket,
    config,
    writeConfig,
    reloadChanged() {
      config.variant = (config.variant ?? 0) + 1;
      writeConfig(ourConfigToml(config));
      return timedCommand(socket, 'reload');
    },
    stop: () => system.stop(),
  };
}
