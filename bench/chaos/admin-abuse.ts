// The admin socket under abuse: thousands of random, binary and oversized inputs, hundreds of
// simultaneous clients, slow-loris clients. The master must survive, keep answering `status`
// (the readiness probe) throughout, and not grow its memory.
import { setTimeout as sleep } from 'node:timers/promises';
import { showProc, timedCommand } from '../admin.ts';
import { startOurInstance } from '../our-instance.ts';
import { isAlive, rssBytes } from '../proc.ts';
import { siteHosts } from '../sites.ts';
import { distribution } from '../stats.ts';
import type { ChaosScenario } from '../results.ts';
import type { ChaosSettings } from './settings.ts';
import { rawExchange, slowLoris, type Outcome } from './raw-client.ts';

const FUZZ_CONCURRENCY = 32;
const CONCURRENT_CLIENTS = 500;
const SLOW_LORIS_CLIENTS = 100;
/**
 * "Memory stable" is judged on a second pass of the same kind of inputs: any Node process
 * serving many short Unix-socket connections grows its RSS over the first ~15,000 and then
 * stays flat (measured: a bare net.Server went 65 → 150 MB, then no further; allocator
 * arenas, not a leak). Growth in the second pass is memory the admin code keeps.
 */
const MAX_SECOND_PASS_GROWTH_MB = 10;

/** Deterministic PRNG (mulberry32), so a failing input can be regenerated from its index. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NEAR_COMMANDS = [
  'status\0', '@999 show info', '@!1 status', '@!0 status', ';;;;', 'show proc;show info;@1 show sites', '', '\r', 'help\r',
  '@master @1 @2 help', 'show', 'show proc proc proc', '@1', '@-1 status', '@1e9 status', 'reload extra args', 'status;status;status',
  'prompt\nshow proc\n@1\nshow info\nquit', '\u00e9t\u00e4t \u{1F600}', 'show info json;' .repeat(200), '%s%s%n%n', '../../etc/passwd',
];

/** Input number `i` of the fuzz run: one of six kinds, cycling. */
function fuzzInput(i: number, random: () => number): { payload: Buffer; end: boolean } {
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  switch (i % 6) {
    case 0:
      return { payload: Buffer.concat([randomBytes(1 + Math.floor(random() * 512)), Buffer.from('\n')]), end: true };
    case 1: // no newline at all: the server must answer at end of input or time the client out
      return { payload: randomBytes(1 + Math.floor(random() * 512)), end: true };
    case 2:
      return { payload: Buffer.from(`${Array.from({ length: 1 + Math.floor(random() * 80) }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('')}\n`), end: true };
    case 3: // oversized lines, now and then a whole mebibyte
      return { payload: Buffer.from(`${'a'.repeat(i % 500 === 3 ? 1024 * 1024 : 4097 + Math.floor(random() * 60_000))}\n`), end: true };
    case 4:
      return { payload: Buffer.from(`${NEAR_COMMANDS[Math.floor(random() * NEAR_COMMANDS.length)]}\n`), end: random() < 0.8 };
    default:
      return { payload: Buffer.from(`${['status', 'show proc', 'help', 'show info'][i % 4]}\n`), end: true };
  }
}

function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

/** Calls `status` every `everyMs` until `stop`, returning latencies and failures. */
async function watchStatus(socket: string, everyMs: number, stop: AbortSignal): Promise<{ ms: number[]; failures: string[] }> {
  const ms: number[] = [];
  const failures: string[] = [];
  while (!stop.aborted) {
    const r = await timedCommand(socket, 'status', 5_000);
    ms.push(r.ms);
    if (!r.ok) failures.push(r.reply.trim().slice(0, 120));
    await sleep(everyMs);
  }
  return { ms, failures };
}

async function processRss(socket: string): Promise<{ masterPid: number; masterMB: number; workersMB: number }> {
  const rows = await showProc(socket);
  const mb = (pid: number) => rssBytes(pid) / 2 ** 20;
  const master = rows.find((r) => r.type === 'master');
  return { masterPid: master?.pid ?? 0, masterMB: master ? mb(master.pid) : 0, workersMB: rows.filter((r) => r.type === 'worker' && r.pid > 0).reduce((a, r) => a + mb(r.pid), 0) };
}

export async function adminAbuse(s: ChaosSettings): Promise<ChaosScenario> {
  const instance = await startOurInstance(`${s.workDir}/admin-abuse`, { workers: 2, upstreamPort: s.upstreamPort, hosts: siteHosts(10), accessLog: false });
  const socket = instance.socket;
  try {
    const rssBefore = await processRss(socket);
    const stopWatch = new AbortController();
    const watch = watchStatus(socket, 100, stopWatch.signal);

    // 1. fuzz inputs, FUZZ_CONCURRENCY at a time, bounded in time as well as in count; the
    // whole set twice (second time with other random bytes): see MAX_SECOND_PASS_GROWTH_MB.
    const fuzzOutcomes: Outcome[] = [];
    const fuzzDeadline = performance.now() + (s.quick ? 20_000 : 90_000);
    let sent = 0;
    const fuzzStarted = performance.now();
    const fuzzPass = async (seed: number) => {
      const random = prng(seed);
      let next = 0;
      await Promise.all(
        Array.from({ length: FUZZ_CONCURRENCY }, async () => {
          while (next < s.fuzzInputs && performance.now() < fuzzDeadline) {
            const { payload, end } = fuzzInput(next++, random);
            sent++;
            fuzzOutcomes.push((await rawExchange(socket, payload, { end, timeoutMs: end ? 7_000 : 1_000 })).outcome);
          }
        }),
      );
      await sleep(1_000);
      return processRss(socket);
    };
    const rssAfterFirstPass = await fuzzPass(8);
    const rssAfterSecondPass = await fuzzPass(9);
    const fuzzSecs = (performance.now() - fuzzStarted) / 1000;

    // 2. many clients at once, all asking for status
    const burst = await Promise.all(Array.from({ length: CONCURRENT_CLIENTS }, () => rawExchange(socket, 'status\n', { end: true, timeoutMs: 10_000 })));
    const burstOk = burst.filter((b) => b.reply.startsWith('{"status":"ok"')).length;

    // 3. slow-loris clients, while the status watcher keeps probing
    const loris = await Promise.all(Array.from({ length: SLOW_LORIS_CLIENTS }, () => slowLoris(socket, 1_000, 12_000)));
    const lorisClosed = loris.map((l) => l.closedByServerAfterMs).filter((v): v is number => v !== undefined);

    stopWatch.abort();
    const status = await watch;
    await sleep(2_000);
    const rssAfter = await processRss(socket);
    const finalStatus = await timedCommand(socket, 'status');
    const masterSurvived = rssBefore.masterPid > 0 && isAlive(rssBefore.masterPid) && rssAfter.masterPid === rssBefore.masterPid;
    const secondPassGrowthMB = rssAfterSecondPass.masterMB - rssAfterFirstPass.masterMB;
    const passed = masterSurvived && finalStatus.ok && status.failures.length === 0 && lorisClosed.length === SLOW_LORIS_CLIENTS && secondPassGrowthMB <= MAX_SECOND_PASS_GROWTH_MB && sent >= 2 * s.fuzzInputs;
    return {
      name: 'admin socket abuse',
      passed,
      summary: `${sent.toLocaleString('en')} fuzz inputs (2 passes) in ${fuzzSecs.toFixed(1)} s (${JSON.stringify(tally(fuzzOutcomes))}); ${CONCURRENT_CLIENTS} simultaneous clients: ${burstOk} got status ok; ${SLOW_LORIS_CLIENTS} slow-loris clients: ${lorisClosed.length} closed by the server, after p50 ${Math.round(distribution(lorisClosed).p50)} ms; status during all of it: ${status.ms.length - status.failures.length}/${status.ms.length} ok, p99 ${distribution(status.ms).p99.toFixed(1)} ms; master ${masterSurvived ? 'survived' : 'DIED OR CHANGED'}; master RSS ${rssBefore.masterMB.toFixed(1)} MB at start, ${rssAfterFirstPass.masterMB.toFixed(1)} after the first fuzz pass, ${rssAfterSecondPass.masterMB.toFixed(1)} after the second (${secondPassGrowthMB >= 0 ? '+' : ''}${secondPassGrowthMB.toFixed(1)} MB, limit ${MAX_SECOND_PASS_GROWTH_MB}), ${rssAfter.masterMB.toFixed(1)} at the end; workers ${rssBefore.workersMB.toFixed(1)} → ${rssAfter.workersMB.toFixed(1)} MB`,
      details: {
        fuzzInputs: sent,
        fuzzSecs,
        fuzzOutcomes: tally(fuzzOutcomes),
        concurrent: { clients: CONCURRENT_CLIENTS, statusOk: burstOk, outcomes: tally(burst.map((b) => b.outcome)) },
        slowLoris: { clients: SLOW_LORIS_CLIENTS, closedByServer: lorisClosed.length, closedAfterMs: distribution(lorisClosed) },
        statusDuring: { ...distribution(status.ms), failures: status.failures.slice(0, 10), failureCount: status.failures.length },
        rssBefore,
        rssAfterFirstPass,
        rssAfterSecondPass,
        rssAfter,
        finalStatus: finalStatus.reply.trim(),
      },
    };
  } finally {
    await instance.stop();
  }
}
