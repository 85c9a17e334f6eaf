// `restart` while load runs, with the TLS certificate of a second listener replaced by garbage
// (issue 12, item 1): the restart must fail with a reply naming the file, no request on the
// plain listener may fail, and the master must be left with exactly its configured workers,
// all of them listed by `show proc`. After the certificate is put back, a restart under load
// must succeed with the same guarantees.
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { showProc, timedCommand } from '../admin.ts';
import { runLoad, type LoadResult } from '../load.ts';
import { ourConfigToml, startOurInstance } from '../our-instance.ts';
import { closedPort } from '../../test/helpers/ports.ts';
import { processTree } from '../proc.ts';
import { siteHosts } from '../sites.ts';
import { WORKLOADS } from '../workloads.ts';
import type { ChaosScenario } from '../results.ts';
import type { ChaosSettings } from './settings.ts';

const WORKERS = 2;
/** How long the killed replacement may take to disappear from the process table. */
const SETTLE_MS = 5_000;
/** A restart waits for each old worker's drain; the harness config drains in 5 s at most. */
const RESTART_REPLY_TIMEOUT_MS = 60_000;

interface Census {
  listed: number[];
  running: number[];
}

/** Waits until the master's children match the workers show proc lists (or SETTLE_MS passes). */
async function census(socket: string, masterPid: number): Promise<Census> {
  const deadline = performance.now() + SETTLE_MS;
  for (;;) {
    const listed = (await showProc(socket)).filter((r) => r.type === 'worker').map((r) => r.pid).sort((a, b) => a - b);
    // Workers fork nothing, so the master's process tree is the master and its workers.
    const running = processTree(masterPid).filter((pid) => pid !== masterPid).sort((a, b) => a - b);
    if (listed.join() === running.join() || performance.now() > deadline) return { listed, running };
    await sleep(50);
  }
}

const correct = (c: Census) => c.listed.length === WORKERS && c.listed.join() === c.running.join();
const lostRequests = (r: LoadResult) => r.socketErrors + r.non2xx;

export async function failedRestartUnderLoad(s: ChaosSettings): Promise<ChaosScenario> {
  const workDir = `${s.workDir}/failed-restart`;
  const instance = await startOurInstance(workDir, { workers: WORKERS, upstreamPort: s.upstreamPort, hosts: siteHosts(10), accessLog: false });
  try {
    const cert = join(workDir, 'tls.crt');
    const key = join(workDir, 'tls.key');
    const goodCert = join(workDir, 'good.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', goodCert, '-days', '1', '-subj', '/CN=chaos.test'], { stdio: 'ignore' });
    copyFileSync(goodCert, cert);
    const tlsPort = await closedPort();
    instance.writeConfig(`${ourConfigToml(instance.config)}\n[[listeners]]\naddress = "127.0.0.1"\nport = ${tlsPort}\ntls_cert = "${cert}"\ntls_key = "${key}"\n`);
    const withTls = await timedCommand(instance.socket, 'restart', RESTART_REPLY_TIMEOUT_MS);
    if (!withTls.ok) throw new Error(`restart adding the TLS listener failed: ${withTls.reply.trim()}`);
    const masterPid = instance.system.rootPid;

    // 1. The certificate goes bad; restart under load.
    writeFileSync(cert, 'garbage\n');
    const broken = runLoad({ port: instance.system.port, workload: WORKLOADS[0]!, connections: s.connections, durationSecs: s.loadSecs });
    await sleep((s.loadSecs * 1000) / 3);
    const failed = await timedCommand(instance.socket, 'restart', RESTART_REPLY_TIMEOUT_MS);
    const afterFailure = await census(instance.socket, masterPid);
    const brokenLoad = await broken;
    const namesCause = !failed.ok && failed.reply.includes(cert) && failed.reply.includes('is not a PEM certificate');

    // 2. The certificate is fixed; restart under load again.
    copyFileSync(goodCert, cert);
    const fixedLoad = runLoad({ port: instance.system.port, workload: WORKLOADS[0]!, connections: s.connections, durationSecs: s.loadSecs });
    await sleep((s.loadSecs * 1000) / 3);
    const fixed = await timedCommand(instance.socket, 'restart', RESTART_REPLY_TIMEOUT_MS);
    const afterFix = await census(instance.socket, masterPid);
    const fixedResult = await fixedLoad;

    const lost = lostRequests(brokenLoad) + lostRequests(fixedResult);
    const passed = namesCause && fixed.ok && lost === 0 && correct(afterFailure) && correct(afterFix);
    const describeCensus = (c: Census) => `show proc ${c.listed.length} worker(s), ${c.running.length} running`;
    return {
      name: 'failed restart under load',
      passed,
      summary: `restart with a garbage TLS cert ${namesCause ? 'answered an error naming the file' : `answered: ${failed.reply.trim().slice(0, 160)}`}, then ${describeCensus(afterFailure)}; after the fix, restart ${fixed.ok ? 'ok' : `failed: ${fixed.reply.trim().slice(0, 160)}`}, ${describeCensus(afterFix)} (configured: ${WORKERS}); ${lost} of ${(brokenLoad.requests + fixedResult.requests).toLocaleString('en')} requests failed`,
      details: { failedReply: failed.reply.trim(), failedRestartMs: failed.ms, afterFailure, fixedReply: fixed.reply.trim(), fixedRestartMs: fixed.ms, afterFix, loadDuringFailure: brokenLoad, loadDuringFix: fixedResult },
    };
  } finally {
    await instance.stop();
  }
}
