// `npm run chaos [-- --quick]`: reliability runs of issue 8 against our proxy, each bounded in
// time; writes results and regenerates bench/README.md. Exits 1 when a scenario fails.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminAbuse } from './chaos/admin-abuse.ts';
import { brokenReloadUnderLoad } from './chaos/broken-reload.ts';
import { killWorkerUnderLoad } from './chaos/kill-worker.ts';
import type { ChaosSettings } from './chaos/settings.ts';
import { upstreamLoss } from './chaos/upstream-loss.ts';
import { describeMachine } from './machine.ts';
import { publishRun } from './report.ts';
import type { ChaosRun, ChaosScenario } from './results.ts';
import { requireTools, WRK } from './tools.ts';
import { startUpstream } from './upstream.ts';

const quick = process.argv.includes('--quick');
requireTools([WRK]);

const startedAt = new Date().toISOString();
const workDir = mkdtempSync(join(tmpdir(), 'chaos-run-'));
const log = (line: string) => process.stdout.write(`${line}\n`);
log(`chaos: ${quick ? 'quick' : 'full'} run, scratch ${workDir}`);

const upstream = await startUpstream(workDir);
const settings: ChaosSettings = {
  workDir,
  upstreamPort: upstream.port,
  connections: 32,
  loadSecs: quick ? 3 : 6,
  fuzzInputs: quick ? 2_000 : 10_000,
  brokenReloads: quick ? 14 : 70,
  quick,
};
const scenarios: ChaosScenario[] = [];
try {
  for (const [name, run] of [
    ['kill -9 a worker under load', killWorkerUnderLoad],
    ['upstream dies and returns', upstreamLoss],
    ['admin socket abuse', adminAbuse],
    ['broken config reloaded under load', brokenReloadUnderLoad],
  ] as const) {
    log(`${name}:`);
    try {
      const scenario = await run(settings);
      scenarios.push(scenario);
      log(`  ${scenario.passed ? 'pass' : 'FAIL'}: ${scenario.summary}`);
    } catch (err) {
      const message = (err as Error).message.split('\n')[0] ?? '';
      scenarios.push({ name, passed: false, summary: `could not run: ${message}`, details: {} });
      log(`  FAIL: could not run: ${message}`);
    }
  }
} finally {
  await upstream.child.stop();
}
const run: ChaosRun = { kind: 'chaos', mode: quick ? 'quick' : 'full', startedAt, finishedAt: new Date().toISOString(), machine: describeMachine(), scenarios };
publishRun(run, log);
process.exitCode = scenarios.every((s) => s.passed) ? 0 : 1;
