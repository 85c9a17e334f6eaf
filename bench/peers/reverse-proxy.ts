// This project's proxy as a system under test: a TOML config written by the harness, `serve`
// started from the sources with the same Node that runs the harness.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { timedCommand } from '../admin.ts';
import { spawnLogged, waitForPort, waitUntilReady } from '../child.ts';
import { freePort } from '../ports.ts';
import type { Peer, RunningSystem, StartOptions } from './types.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** The CLI run from the sources (type stripping); see build.ts for the compiled one. */
export const CLI_SOURCES = join(REPO_ROOT, 'src', 'cli.ts');

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
}

export function ourConfigToml(c: OurConfig): string {
  const upstream = `"http://127.0.0.1:${c.upstreamPort}"`;
  const via = (c.variant ?? 0) % 2 === 1;
  const sites = c.hosts.map((h) => `[[sites]]\nhost = "${h}"\nupstream = ${upstream}\nvia = ${via}\n`);
  return `admin_socket_path = "${c.adminSocket}"
workers = ${c.workers}
shutdown_timeout_secs = 5

[logging]
level = "${c.accessLog ? 'info' : 'warn'}"
access_log = ${c.accessLog}

[[listeners]]
address = "127.0.0.1"
port = ${c.port}

${c.defaultSite === false ? '' : `[[sites]]\ndefault = true\nupstream = ${upstream}\n`}
${sites.join('\n')}`;
}

/**
 * Starts `serve` on `configPath` (already written). Ready means what a user sees: `status`
 * answers ok on the admin socket and the listener accepts. (The `ready` log event is at info
 * level, which the throughput runs turn off.)
 */
export async function startOurs(configPath: string, workDir: string, port: number, adminSocket: string, cli = CLI_SOURCES): Promise<RunningSystem> {
  const child = spawnLogged(process.execPath, [cli, 'serve', '--config', configPath], join(workDir, 'stdout.log'));
  await waitUntilReady(child, 'reverse-proxy status ok', 30_000, async () => (await timedCommand(adminSocket, 'status', 1_000)).ok);
  await waitForPort(child, port);
  return { port, rootPid: child.pid, child, adminSocket, configPath, stop: () => child.stop(10_000) };
}

export async function startOursWith(o: StartOptions): Promise<RunningSystem> {
  const port = await freePort();
  const adminSocket = join(o.workDir, 'admin.sock');
  const configPath = join(o.workDir, 'config.toml');
  writeFileSync(configPath, ourConfigToml({ port, workers: o.workers, adminSocket, upstreamPort: o.upstreamPort, hosts: o.hosts, accessLog: o.accessLog }));
  return startOurs(configPath, o.workDir, port, adminSocket);
}

export const reverseProxyPeer: Peer = {
  id: 'reverse-proxy',
  label: 'reverse-proxy (this project)',
  family: 'ours',
  start: startOursWith,
};
