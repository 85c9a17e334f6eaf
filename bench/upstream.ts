// Starts the shared upstream (upstream-server.ts) as its own process.
import { join } from 'node:path';
import { spawnLogged, waitForPort, type Child } from './child.ts';
import { closedPort } from '../test/helpers/ports.ts';

export interface Upstream {
  port: number;
  child: Child;
}

/** `port` lets a chaos run bring a killed upstream back on the same address. */
export async function startUpstream(workDir: string, port?: number): Promise<Upstream> {
  const chosen = port ?? (await closedPort());
  const child = spawnLogged(process.execPath, [join(import.meta.dirname, 'upstream-server.ts'), String(chosen)], join(workDir, `upstream-${Date.now()}.log`));
  await waitForPort(child, chosen);
  return { port: chosen, child };
}
