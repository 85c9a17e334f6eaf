// kill -9 one worker while load runs. Only requests on that worker's connections may fail
// (at most one in flight per keep-alive connection); the master must respawn the worker.
import { setTimeout as sleep } from 'node:timers/promises';
import { sendCommand } from '../../src/admin/client.ts';
import { showProc } from '../admin.ts';
import { runLoad } from '../load.ts';
import { startOurInstance } from '../our-instance.ts';
import { siteHosts } from '../sites.ts';
import { WORKLOADS } from '../workloads.ts';
import type { ChaosScenario } from '../results.ts';
import type { ChaosSettings } from './settings.ts';

const RESPAWN_DEADLINE_MS = 15_000;

/** The worker's own count of open client connections (`@N show info json`). */
async function activeConnections(socket: string, relativePid: number): Promise<number | undefined> {
  try {
    const info = JSON.parse(await sendCommand(socket, `@${relativePid} show info json`)) as { active_connections?: number };
    return info.active_connections;
  } catch {
    return undefined;
  }
}

export async function killWorkerUnderLoad(s: ChaosSettings): Promise<ChaosScenario> {
  const instance = await startOurInstance(`${s.workDir}/kill-worker`, { workers: 2, upstreamPort: s.upstreamPort, hosts: siteHosts(10), accessLog: false });
  try {
    const load = runLoad({ port: instance.system.port, workload: WORKLOADS[0]!, connections: s.connections, durationSecs: s.loadSecs });
    await sleep((s.loadSecs * 1000) / 3);
    const victim = (await showProc(instance.socket)).find((r) => r.type === 'worker' && r.relativePid === 1);
    if (!victim) throw new Error('show proc listed no worker 1');
    const connectionsOnVictim = await activeConnections(instance.socket, 1);
    const killedAt = performance.now();
    process.kill(victim.pid, 'SIGKILL');
    let respawnMs: number | undefined;
    let newPid: number | undefined;
    while (performance.now() - killedAt < RESPAWN_DEADLINE_MS) {
      const row = (await showProc(instance.socket)).find((r) => r.type === 'worker' && r.relativePid === 1);
      if (row && row.pid > 0 && row.pid !== victim.pid && (await activeConnections(instance.socket, 1)) !== undefined) {
        respawnMs = performance.now() - killedAt;
        newPid = row.pid;
        break;
      }
      await sleep(10);
    }
    const result = await load;
    // Afterwards every request must succeed again, on both workers.
    const after = await runLoad({ port: instance.system.port, workload: WORKLOADS[0]!, connections: s.connections, durationSecs: 1 });
    const lost = result.socketErrors + result.non2xx;
    const allowed = connectionsOnVictim ?? s.connections;
    const passed = respawnMs !== undefined && lost <= allowed && after.socketErrors + after.non2xx === 0;
    return {
      name: 'kill -9 a worker under load',
      passed,
      summary: `${lost} of ${result.requests.toLocaleString('en')} requests failed (allowed: ${allowed}, the killed worker's open connections${connectionsOnVictim === undefined ? ' — unknown, so all' : ''}); respawned and answering in ${respawnMs === undefined ? 'never (>15 s)' : `${Math.round(respawnMs)} ms`}; ${after.socketErrors + after.non2xx} failures in 1 s of load afterwards`,
      details: { killedPid: victim.pid, newPid, connectionsOnVictim, respawnMs, load: result, loadAfter: after },
    };
  } finally {
    await instance.stop();
  }
}
