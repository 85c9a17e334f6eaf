// `npm run chaos [-- --quick] [--only NAME]`: reliability runs of issue 8 against our proxy, each
// bounded in time; writes results and regenerates bench/README.md. Exits 1 when a scenario
// fails. `--only` runs the scenarios whose name contains NAME and publishes nothing: a partial
// run must not replace the committed full one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminAbuse } from './chaos/admin-abuse.ts';
import { brokenReloadUnderLoad } from './chaos/broken-reload.ts';
import { configNotFileUnderLoad } from './chaos/config-not-file.ts';
import { failedRestartUnderLoad } from './chaos/failed-restart.ts';
import { killWorkerUnderLoad } from './chaos/kill-worker.ts';
import type { ChaosSettings } from './chaos/settings.ts';
import { upstreamLoss } from './chaos/upstream-loss.ts';
import { describeMachine } from './machine.ts';
import { cpuTicks } from './proc.ts';
import { publishRun } from './report.ts';
import type { ChaosRun, ChaosScenario } from './results.ts';
import { requireTools, WRK } from './tools.ts';
import { startUpstream } from './upstream.ts';

const quick = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? undefined : process.argv[onlyIndex + 1];
if (onlyIndex !== -1 && !only) {
  process.stderr.write('chaos: --only needs part of a scenario name\n');
  process.exit(2);
}
requireTools([WRK]);

const startedAt = new Date().toISOString();
const startTicks = cpuTicks();
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
  const all = [
    ['kill -9 a worker under load', killWorkerUnderLoad],
    ['upstream dies and returns', upstreamLoss],
    ['admin socket abuse', adminAbuse],
    ['broken config reloaded under load', brokenReloadUnderLoad],
    ['failed restart under load', failedRestartUnderLoad],
    ['config path not a regular file, reloaded under load', configNotFileUnderLoad],
  ] as const;
  const selected = all.filter(([name]) => only === undefined || name.includes(only));
  if (selected.length === 0) throw new Error(`no scenario name contains "${only}"; the scenarios: ${all.map(([name]) => name).join(', ')}`);
  for (const [name, run] of selected) {
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
const run: ChaosRun = { kind: 'chaos', mode: quick ? 'quick' : 'full', startedAt, finishedAt: new Date().toISOString(), machine: describeMachine(startTicks), scenarios };
if (only === undefined) publishRun(run, log);
else log(`--only ${JSON.stringify(only)}: ${scenarios.length} scenario(s) run, results not published`);
process.exitCode = scenarios.every((s) => s.passed) ? 0 : 1;
