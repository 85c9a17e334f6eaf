// The admin socket as the harness uses it: timed commands, and the worker PIDs from `show proc`.
import { performance } from 'node:perf_hooks';
import { sendCommand } from '../src/admin/client.ts';

export interface TimedReply {
  ms: number;
  reply: string;
  ok: boolean;
}

/** Sends one command; `ok` means the seed-000 `{"status":"ok"...}` reply. Never throws. */
export async function timedCommand(socketPath: string, command: string, timeoutMs = 10_000): Promise<TimedReply> {
  const started = performance.now();
  try {
    const reply = await sendCommand(socketPath, command, timeoutMs);
    return { ms: performance.now() - started, reply, ok: reply.startsWith('{"status":"ok"') };
  } catch (err) {
    return { ms: performance.now() - started, reply: (err as Error).message, ok: false };
  }
}

export interface ProcRow {
  pid: number;
  type: string;
  relativePid: number;
}

/**
 * Rows of `show proc` (`#<PID> <type> <relative PID> ...` header, then one row per process):
 * the master and the workers holding slots, not the old workers still draining after a restart.
 */
export async function showProc(socketPath: string): Promise<ProcRow[]> {
  const reply = await sendCommand(socketPath, 'show proc');
  const rows: ProcRow[] = [];
  for (const line of reply.split('\n')) {
    if (line === '# old workers') break;
    const [pid, type, relativePid] = line.trim().split(/\s+/);
    if (!pid || line.startsWith('#') || !type || relativePid === undefined) continue;
    if (!/^\d+$/.test(pid) || !/^\d+$/.test(relativePid)) continue;
    rows.push({ pid: Number(pid), type, relativePid: Number(relativePid) });
  }
  return rows;
}
