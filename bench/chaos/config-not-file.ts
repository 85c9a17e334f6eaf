// The config path replaced by something that is not a regular file while load runs (issue 12,
// item 2): a FIFO nobody writes to, a directory, /dev/zero and a socket. Each reload must answer
// an error naming what the path is, at once (a FIFO used to hang this reload and every later
// one); no request may fail; and once the real file is back, a reload must work.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { timedCommand, type TimedReply } from '../admin.ts';
import { runLoad } from '../load.ts';
import { ourConfigToml, startOurInstance } from '../our-instance.ts';
import { siteHosts } from '../sites.ts';
import { WORKLOADS } from '../workloads.ts';
import type { ChaosScenario } from '../results.ts';
import type { ChaosSettings } from './settings.ts';

/** "At once" on a loaded 2-core machine: a reply that waited for anything would take far longer. */
const FAST_REPLY_MS = 1_000;
/** A reply that does not come at all is cut here and reported as such. */
const REPLY_TIMEOUT_MS = 10_000;

const KINDS: readonly { name: string; says: string; make(path: string): Promise<Server | undefined> }[] = [
  { name: 'FIFO', says: 'is a FIFO (named pipe)', make: async (path) => (execFileSync('mkfifo', [path]), undefined) },
  { name: 'directory', says: 'is a directory', make: async (path) => (mkdirSync(path), undefined) },
  { name: '/dev/zero', says: 'is a character device', make: async (path) => (symlinkSync('/dev/zero', path), undefined) },
  { name: 'socket', says: 'is a socket', make: (path) => new Promise((resolve) => { const server = createServer().listen(path, () => resolve(server)); }) },
];

export async function configNotFileUnderLoad(s: ChaosSettings): Promise<ChaosScenario> {
  const workDir = `${s.workDir}/config-not-file`;
  const instance = await startOurInstance(workDir, { workers: 2, upstreamPort: s.upstreamPort, hosts: siteHosts(10), accessLog: false });
  const configPath = join(workDir, 'config.toml');
  try {
    const good = ourConfigToml(instance.config);
    const load = runLoad({ port: instance.system.port, workload: WORKLOADS[0]!, connections: s.connections, durationSecs: s.loadSecs });
    await sleep((s.loadSecs * 1000) / 4);
    const replies: { kind: string; reply: TimedReply; named: boolean }[] = [];
    for (const kind of KINDS) {
      rmSync(configPath, { recursive: true, force: true });
      const server = await kind.make(configPath);
      const reply = await timedCommand(instance.socket, 'reload', REPLY_TIMEOUT_MS);
      server?.close();
      replies.push({ kind: kind.name, reply, named: reply.reply.startsWith('{"status":"error"') && reply.reply.includes(kind.says) });
    }
    rmSync(configPath, { recursive: true, force: true });
    instance.writeConfig(good);
    const restored = await timedCommand(instance.socket, 'reload', REPLY_TIMEOUT_MS);
    const result = await load;
    const lost = result.socketErrors + result.non2xx;
    const slowest = Math.max(...replies.map((r) => r.reply.ms));
    const passed = lost === 0 && restored.ok && replies.every((r) => r.named && r.reply.ms < FAST_REPLY_MS);
    const describe = replies.map((r) => `${r.kind} ${r.named ? 'refused' : 'NOT refused'} in ${Math.round(r.reply.ms)} ms`).join(', ');
    return {
      name: 'config path not a regular file, reloaded under load',
      passed,
      summary: `${describe}; ${lost} of ${result.requests.toLocaleString('en')} requests failed; the restored file reloads ${restored.ok ? 'ok' : `with: ${restored.reply.trim()}`} (slowest refusal ${Math.round(slowest)} ms, limit ${FAST_REPLY_MS} ms)`,
      details: { replies: replies.map((r) => ({ kind: r.kind, ms: Math.round(r.reply.ms), reply: r.reply.reply.trim() })), load: result, restoredReply: restored.reply.trim() },
    };
  } finally {
    await instance.stop();
  }
}
