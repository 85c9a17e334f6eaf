// Shared by the Node peers: run `startWorker` in `workers` node:cluster workers (a primary that
// only supervises, like our master), take the settings from the environment, route by Host.
import cluster from 'node:cluster';
import { spawnLogged, waitForPort } from '../child.ts';
import { closedPort } from '../../test/helpers/ports.ts';
import { runningChild, type RunningSystem, type StartOptions } from './types.ts';
import { join } from 'node:path';

export interface NodePeerSettings {
  port: number;
  workers: number;
  upstream: string;
  hosts: string[];
}

const SETTINGS_ENV = 'BENCH_NODE_PEER';

/** Host → upstream origin, as each worker builds it once at start. */
export function routingTable(settings: NodePeerSettings): (hostHeader: string | undefined) => string {
  const routes = new Map(settings.hosts.map((h) => [h, settings.upstream]));
  return (hostHeader) => {
    const host = hostHeader ?? '';
    const colon = host.indexOf(':');
    return routes.get((colon === -1 ? host : host.slice(0, colon)).toLowerCase()) ?? settings.upstream;
  };
}

/** Entry-point body of a Node peer script. */
export function runClustered(startWorker: (settings: NodePeerSettings) => void): void {
  const settings = JSON.parse(process.env[SETTINGS_ENV] ?? '{}') as NodePeerSettings;
  if (!cluster.isPrimary) return startWorker(settings);
  for (let i = 0; i < settings.workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    process.exit(0);
  });
}

/** Starts the peer script `entry` (a file next to this one) as a child process. */
export async function startNodePeer(entry: string, o: StartOptions): Promise<RunningSystem> {
  const port = await closedPort();
  const settings: NodePeerSettings = { port, workers: o.workers, upstream: `http://127.0.0.1:${o.upstreamPort}`, hosts: [...o.hosts] };
  const child = spawnLogged(process.execPath, [join(import.meta.dirname, entry)], join(o.workDir, 'stdout.log'), {
    ...process.env,
    [SETTINGS_ENV]: JSON.stringify(settings),
  });
  await waitForPort(child, port);
  return runningChild(child, port);
}
