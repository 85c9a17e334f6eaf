// bench/README.md, regenerated after every bench or chaos run from the latest results of both,
// with the chart next to the results. Hand-written analysis lives in bench/findings.md and is
// included verbatim, so regenerating never loses it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { throughputChart } from './chart.ts';
import { ratiosFor, systemKey } from './compare.ts';
import { loadLatest, RESULTS_DIR, saveRun, type BenchRun, type ChaosRun } from './results.ts';
import type { ProbeSummary } from './probe.ts';
import { checkEngineTargets, checkTargets } from './targets.ts';
import { WORKLOADS } from './workloads.ts';

const README = join(import.meta.dirname, 'README.md');
const FINDINGS = join(import.meta.dirname, 'findings.md');
const CHART = 'chart-latest.svg';

const table = (header: readonly string[], rows: readonly (readonly string[])[]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const num = (n: number | undefined, digits = 2) => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const verdict = (met?: boolean) => (met === undefined ? 'not measured' : met ? '**met**' : '**not met**');

function machineSection(run: BenchRun | ChaosRun): string {
  const m = run.machine;
  return `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}, ${m.nginx}, ${m.haproxy}, ${m.wrk}. Run: \`${run.kind}\` ${run.mode} mode, ${run.startedAt} → ${run.finishedAt}.${m.stealPercent === undefined ? '' : ` Hypervisor steal over the run: ${m.stealPercent}% of CPU time.`}`;
}

function throughputSection(run: BenchRun): string {
  const rows = run.throughput.rows;
  const sections = WORKLOADS.map((w) => {
    const group = rows.filter((r) => r.workload === w.id);
    if (group.length === 0) return '';
    const body = group.map((r) => {
      const ratios = ratiosFor(rows, r);
      const name = r.system === 'reverse-proxy' ? `**${r.label}**` : r.label;
      return [name + (r.accessLog ? ' (access log on)' : ''), String(r.workers), r.rps.toLocaleString('en'), num(r.latencyMs.p50), num(r.latencyMs.p99), num(r.cpuUsPerRequest, 1), num(ratios.toNginx), num(ratios.toBestNode), String(r.socketErrors + r.non2xx), String(r.backgroundCpuPct)];
    });
    return `### ${w.label}\n\n${table(['system', 'workers', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', '× nginx', '× best Node peer', 'errors', 'other load % (before workload)'], body)}`;
  });
  const footprint = table(
    ['system', 'workers', 'idle RSS MB', 'RSS after load MB'],
    run.throughput.footprint.map((f) => [systemKey(f.system, f.workers, f.accessLog), String(f.workers), num(f.idleRssMB, 1), num(f.loadedRssMB, 1)]),
  );
  const failures = run.throughput.failures.length > 0 ? `\n\nFailed in this run:\n${run.throughput.failures.map((f) => `- ${f}`).join('\n')}` : '';
  return `wrk, 1 thread, ${run.load.connections} connections. All systems run side by side; each workload is measured in ${run.load.rounds} round(s) of ${run.load.durationSecs} s per system, visiting the systems in a rotated order, after a ${run.load.workloadWarmupSecs} s warm-up per workload (and ${run.load.systemWarmupSecs} s per system). Each figure is the system's median round; the JSON has every round. "errors" = socket errors + responses ≥ 400 over all rounds. Ratios compare the same worker count. "CPU µs/req" is the CPU time the system's own processes spent per request (all rounds; for the ceiling, the upstream's): wrk, the upstream and the proxy share the cores, so this is what decides throughput here. "other load % (before workload)" = CPU busy with work not started by the harness (other jobs on the machine), sampled just before that system ran; numbers next to a high value are pessimistic.

![throughput and p99 latency per system](results/${CHART})

${sections.filter(Boolean).join('\n\n')}

### Memory (whole process tree, RSS)

${footprint}${failures}`;
}

function headToHeadSection(run: BenchRun): string {
  const paired = run.throughput.paired ?? [];
  if (paired.length === 0) return 'Not measured in this run.';
  const settings = paired[0]!.settings;
  const rows = paired.map((c) => {
    const r = c.pairRatios;
    const [low, high] = c.rpsRatioInterval;
    return [`${c.candidate.key} ÷ ${c.baseline.key}`, c.workload, `**${num(c.rpsRatio, 3)}**`, `${num(low, 3)}–${num(high, 3)}`, `${num(r.min)} · ${num(r.q1)} · ${num(r.median)} · ${num(r.q3)} · ${num(r.max)}`, `${num(c.candidate.cpuUsPerRequest, 1)} / ${num(c.baseline.cpuUsPerRequest, 1)}`, num(c.cpuRatio, 3), String(c.candidate.errors + c.baseline.errors)];
  });
  return `After each workload's rounds (the throughput section below), two systems at a time alternate ${settings.roundSecs} s rounds, ${settings.pairs} pairs in the order A B, B A, A B, …, so each pair's two rounds run a second apart and a steady drift of the machine cancels over every two pairs (bench/paired.ts). "req/s ratio" is the first system's mean req/s ÷ the second's over all those rounds: what the targets are judged on; its 95% interval comes from resampling whole pairs (2,000 draws, fixed seed). The per-pair ratios (one round ÷ its neighbour) show how much a single pair can say: min · quartiles · max.

${table(['target', 'measured', 'verdict'], checkEngineTargets(run).map((c) => [c.target, c.measured, verdict(c.met)]))}

${table(['comparison', 'workload', 'req/s ratio', '95% interval', 'per-pair ratios', 'CPU µs/req (first / second)', 'CPU ratio', 'errors'], rows)}`;
}

function addedLatencySection(run: BenchRun): string {
  const a = run.addedLatency;
  if (!a) return 'Not measured in this run.';
  return `Paced small GETs (${a.connections} connections, each waiting ${a.delayMs} ms between requests) targeting ${a.targetRps.toLocaleString('en')} req/s, half of our measured maximum.

${table(['system', 'workers', 'req/s', 'p50 ms', 'p99 ms', 'p99 added vs direct, ms'], a.rows.map((r) => [r.system, String(r.workers), r.rps.toLocaleString('en'), num(r.p50Ms, 3), num(r.p99Ms, 3), num(r.addedP99Ms, 3)]))}`;
}

function reloadSection(run: BenchRun): string {
  const r = run.reload;
  if (!r) return 'Not measured in this run.';
  const times = table(
    ['sites', 'workers', 'reloads', 'p50 ms', 'p99 ms', 'max ms', 'failed'],
    r.reloadTimes.map((t) => [String(t.sites), String(t.workers), String(t.replyMs.count), num(t.replyMs.p50), num(t.replyMs.p99), num(t.replyMs.max), String(t.failed) + (t.firstFailure ? ` (${t.firstFailure})` : '')]),
  );
  const lines: string[] = [`Socket \`reload\` → reply, each reload applying a real change (a site setting toggled), config written atomically like kubelet does.\n\n${times}`];
  const u = r.reloadsUnderLoad;
  if (u) lines.push(`**${u.reloads} reloads while small GETs run** (${u.workers} workers): ${u.load.requests.toLocaleString('en')} requests, ${u.load.socketErrors} socket errors, ${u.load.non2xx} responses ≥ 400; ${u.reloadFailures} reloads answered an error; reload reply p50 ${num(u.replyMs.p50)} ms, p99 ${num(u.replyMs.p99)} ms; throughput meanwhile ${u.load.rps.toLocaleString('en')} req/s.`);
  const s = r.statusUnderLoad;
  if (s) lines.push(`**\`status\` under full load** (${s.workers} workers, ${s.load.rps.toLocaleString('en')} req/s): p50 ${num(s.statusMs.p50)} ms, p99 ${num(s.statusMs.p99)} ms, max ${num(s.statusMs.max)} ms over ${s.statusMs.count} calls, ${s.statusFailures} failed.`);
  const probeRow = (p: ProbeSummary) => [p.build, p.when, String(p.runs), num(p.wallMs.p50, 0), num(p.wallMs.p99, 0), num(p.peakRssMB, 1), String(p.failed)];
  if (r.probes.length > 0) lines.push(`**Readiness probe** \`ctl status --socket …\` as a fresh process, the way kubelet runs it (wall time; peak RSS from GNU time). "compiled" is the build the image runs (\`dist/cli.js\`), "sources" is \`node src/cli.ts\` through type stripping.\n\n${table(['build', 'when', 'runs', 'wall p50 ms', 'wall p99 ms', 'peak RSS MB', 'failed'], r.probes.map(probeRow))}`);
  if (r.idleFootprints.length > 0) {
    const rows = r.idleFootprints.map((f) => [f.build, num(f.masterRssMB, 1), f.workerRssMB.map((w) => num(w, 1)).join(' + '), num(f.totalRssMB, 1), f.totalPrivateMB === undefined ? '–' : num(f.totalPrivateMB, 1)]);
    lines.push(`**Idle RSS**, 1 worker, 10 sites, 2 s after start. "private" is what master and worker do not share with any other process: summed RSS counts the Node binary's pages once per process.\n\n${table(['build', 'master RSS MB', 'worker RSS MB', 'total RSS MB', 'private MB'], rows)}`);
  }
  if (r.failures.length > 0) lines.push(`Failed steps:\n${r.failures.map((x) => `- ${x}`).join('\n')}`);
  return lines.join('\n\n');
}

function chaosSection(run: ChaosRun): string {
  return `${machineSection(run)}

${table(['scenario', 'result', 'what happened'], run.scenarios.map((s) => [s.name, s.passed ? 'pass' : '**FAIL**', s.summary]))}

Full details (counts, timings) in \`results/chaos-latest.json\`.`;
}

const HOW_TO_RUN = `Not part of \`npm test\`. Needs \`wrk\`, \`nginx\`, \`haproxy\` and GNU \`time\` (Debian packages; the harness
checks and prints \`apt-get install -y wrk nginx haproxy time\` when one is missing). Everything binds 127.0.0.1 only.

\`\`\`
npm run bench             # full run, about 15 minutes: every system, 1 and N workers, head to head with nginx, reload and probe benchmarks
npm run bench -- --quick  # ≤3 minutes, shorter runs, same coverage; results in results/*-quick-*.json only
npm run chaos             # reliability runs (kill -9, upstream loss, admin-socket abuse, broken reloads, failed restart, config path not a file)
npm run chaos -- --quick
npm run chaos -- --only 'failed restart'   # the scenarios whose name contains this; nothing published
\`\`\`

Run on their own (each says at its top what it measures; the outputs findings.md quotes are kept in \`results/\`):

\`\`\`
./node_modules/.bin/node bench/node-floor.ts      # ours and nginx beside a bare Node pass-through (floor-server.ts): what our request path adds, small GETs
./node_modules/.bin/node bench/tls.ts             # TLS against nginx, handshakes, a reload with 100 certificates
./node_modules/.bin/node bench/routes-cost.ts     # 1,000 sites × 20 routes against × 1 route, and their reloads
./node_modules/.bin/node bench/metrics-on-off.ts  # metrics off against on and scraped
./node_modules/.bin/node bench/metrics-cost.ts    # one request's counting: prom-client against the plain record
\`\`\`

Each run writes \`results/<kind>-<timestamp>.json\` and \`results/<kind>-latest.json\`, then regenerates this file and
\`results/${CHART}\` from the latest bench and chaos results.

**Systems.** One Node \`http\` upstream process (\`upstream-server.ts\`: \`/small\` 6 bytes, \`/64k\`, \`POST /upload\`)
behind: nothing (the ceiling), this project (\`serve\` with the Node flags of \`bin/reverse-proxy.js\`, access log off;
once with it on), nginx (one \`server\` block per site, upstream keep-alive, request bodies streamed, responses buffered
in memory only), HAProxy (\`nbthread\` = workers, host map, \`http-reuse always\`), node-http-proxy (keep-alive agent)
and @fastify/http-proxy (undici, \`getUpstream\` by Host), the Node peers clustered with \`node:cluster\` like our
workers. Every system has the same 1,000 sites plus a default. Worker count is the same for every system in a comparison; upstream, wrk and the proxy share the cores, as in a
pod with an app container.`;

/** Saves a run; a full run also regenerates README.md, a quick one never replaces its numbers. */
export function publishRun(run: BenchRun | ChaosRun, log: (line: string) => void): void {
  log(`results: ${saveRun(run)}`);
  if (run.mode === 'quick') {
    log('quick run: bench/README.md keeps the last full run');
  } else {
    regenerateReadme();
    log('bench/README.md regenerated');
  }
}

export function regenerateReadme(): void {
  const bench = loadLatest('bench');
  const chaos = loadLatest('chaos');
  if (bench) writeFileSync(join(RESULTS_DIR, CHART), throughputChart(bench.throughput.rows, `Throughput and p99 latency, ${bench.machine.cores} cores, ${bench.startedAt.slice(0, 16)} UTC`));
  const findings = existsSync(FINDINGS) ? readFileSync(FINDINGS, 'utf8').trim() : '';
  const parts = [
    '# Benchmarks and reliability runs',
    '_Generated by `bench/report.ts` from `results/bench-latest.json` and `results/chaos-latest.json`; edit `findings.md` for the prose below the tables._',
    HOW_TO_RUN,
  ];
  if (bench) {
    parts.push(`## Machine\n\n${machineSection(bench)}`);
    parts.push(`## Targets (issue 8)\n\n${table(['target', 'measured', 'verdict'], checkTargets(bench).map((c) => [c.target, c.measured, verdict(c.met)]))}`);
    parts.push(`## Head to head (issue 13 targets)\n\n${headToHeadSection(bench)}`);
    parts.push(`## Throughput and latency\n\n${throughputSection(bench)}`);
    parts.push(`## Latency added at half load\n\n${addedLatencySection(bench)}`);
    parts.push(`## Reloads, admin socket, probe, memory\n\n${reloadSection(bench)}`);
  } else {
    parts.push('No bench results yet: run `npm run bench`.');
  }
  parts.push(chaos ? `## Reliability (npm run chaos)\n\n${chaosSection(chaos)}` : '## Reliability\n\nNo chaos results yet: run `npm run chaos`.');
  if (findings) parts.push(findings);
  writeFileSync(README, `${parts.join('\n\n')}\n`);
}
