// What routes cost (issue 14: ≤3% throughput, reload ≤50 ms p50): 1,000 sites with 20 routes
// each against the same 1,000 sites with one route, on the Host-rotating workload, in rotated
// rounds on the same upstream; then the reload reply time of each config. The 20 routes mix
// exact paths, prefixes and regexes, and the request only matches the last, so every request
// pays for 19 misses. Those 1,000 sites have the same routes, as configs generated from one
// template do, and the proxy compiles routes written alike once for every site that has them
// (src/proxy/routes/route-shapes.ts); so a third config gives every site routes of its own
// (paths, prefixes and regexes that name the site), which nothing can share: the worst case.
// The reloads come in two kinds: every site changed (nothing of the running
// config can be kept: the cold path), and one site edited (what a ConfigMap edit does; the
// proxy re-validates and recompiles that site only). The ≤3% is judged head to head (paired.ts:
// each 20-route config against the 1-route one in `--pairs` alternating 1 s rounds); the rotated
// rounds before it give the usual per-system table. `--rounds 0 --pairs 0` skips throughput.
// Not part of `npm run bench` or `npm test`:
//
//   ./node_modules/.bin/node bench/routes-cost.ts [--workers N] [--rounds N] [--secs N] [--pairs N] [--reloads N]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timedCommand, type TimedReply } from './admin.ts';
import { ourConfigToml, startOurInstance, type OurInstance } from './our-instance.ts';
import type { Peer } from './peers/types.ts';
import { SITE_COUNT, siteHost, siteHosts } from './sites.ts';
import { distribution } from './stats.ts';
import { describeComparison } from './paired.ts';
import { systemKey } from './compare.ts';
import { measureThroughput, type PairedPlan } from './throughput.ts';
import { WRK, requireTools } from './tools.ts';
import { startUpstream } from './upstream.ts';

const { values } = parseArgs({
  options: { workers: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' }, secs: { type: 'string', default: '2' }, pairs: { type: 'string', default: '40' }, reloads: { type: 'string', default: '20' } },
});
requireTools([WRK]);

/** The route the workload's `GET /small` takes, last in the 20-route config. */
const MATCHING_ROUTE = `  [[sites.routes]]
  name = "small"
  path_prefix = "/small"
  request_headers = { set = { "x-route" = "small" } }
`;

/** `own`: written into every path, prefix and regex, so each site's 19 misses are its own. */
function twentyRoutes(own = ''): string {
  const routes: string[] = [];
  for (let i = 0; i < 6; i++) routes.push(`  [[sites.routes]]\n  path = "/${own}exact-${i}"\n  respond = { status = 200, body = "exact ${i}" }\n`);
  for (let i = 0; i < 8; i++) routes.push(`  [[sites.routes]]\n  path_prefix = "/${own}p${i}/"\n  strip_prefix = true\n  methods = ["GET", "POST"]\n`);
  for (let i = 0; i < 5; i++) routes.push(`  [[sites.routes]]\n  path_regex = "^/${own}v[0-9]+/r${i}/"\n  request_headers = { set = { "x-v" = "${i}" } }\n`);
  return routes.join('') + MATCHING_ROUTE;
}

const CONFIGS = [
  { id: 'reverse-proxy/1-route', label: '1,000 sites × 1 route', siteTables: MATCHING_ROUTE },
  { id: 'reverse-proxy/20-routes', label: '1,000 sites × 20 routes', siteTables: twentyRoutes() },
  { id: 'reverse-proxy/20-own-routes', label: '1,000 sites × 20 routes of their own', siteTables: (site: number) => twentyRoutes(`site${site}-`) },
];

const peers: Peer[] = CONFIGS.map((c) => ({
  id: c.id,
  label: c.label,
  family: 'ours',
  start: async (o) => (await startOurInstance(o.workDir, { workers: o.workers, upstreamPort: o.upstreamPort, hosts: o.hosts, accessLog: o.accessLog, siteTables: c.siteTables })).system,
}));

const log = (line: string) => process.stdout.write(`${line}\n`);

/** Edits one site's request timeout (a different site each time) in the config as it is, and reloads. */
function oneSiteEdits(): (instance: OurInstance, edit: number) => Promise<TimedReply> {
  let text: string | undefined;
  return (instance, edit) => {
    text ??= ourConfigToml(instance.config);
    const host = `host = "${siteHost((edit * 7) % SITE_COUNT)}"\n`;
    const at = text.indexOf(host);
    if (at < 0) throw new Error(`no ${host.trim()} in the config`);
    const after = at + host.length;
    const old = /^request_timeout_secs = \d+\n/.exec(text.slice(after))?.[0] ?? '';
    text = `${text.slice(0, after)}request_timeout_secs = ${61 + edit}\n${text.slice(after + old.length)}`;
    instance.writeConfig(text);
    return timedCommand(instance.socket, 'reload');
  };
}

/** Made afresh for each instance: the one-site edits follow that instance's config. */
const reloadKinds = () => [
  { label: 'every site changed', reload: (instance: OurInstance) => instance.reloadChanged() },
  { label: 'one site edited', reload: oneSiteEdits() },
];

const workDir = mkdtempSync(join(tmpdir(), 'bench-routes-'));
const workers = Number(values.workers);
const upstream = await startUpstream(workDir);
try {
  if (Number(values.rounds) > 0 || Number(values.pairs) > 0) {
    const settings = { connections: 32, durationSecs: Number(values.secs), rounds: Number(values.rounds), systemWarmupSecs: 2, workloadWarmupSecs: 1 };
    const systems = peers.map((peer) => ({ peer, workers, workloads: ['hosts-1000' as const] }));
    const [baseline, ...candidates] = peers.map((p) => systemKey(p.id, workers));
    const plan: PairedPlan = {
      settings: { pairs: Number(values.pairs), roundSecs: 1, connections: settings.connections },
      comparisons: Number(values.pairs) > 0 && baseline ? candidates.map((candidate) => ({ candidate, baseline })) : [],
    };
    const { rows, paired, failures } = await measureThroughput(systems, upstream.port, settings, workDir, log, plan);
    for (const f of failures) log(`failed: ${f}`);
    const [one, ...others] = peers.map((p) => rows.find((r) => r.system === p.id));
    for (const r of [one, ...others]) if (r) log(`${r.system.padEnd(30)} ${Math.round(r.rps)} req/s (rounds ${r.roundsRps.map(Math.round).join(', ')}), ${r.cpuUsPerRequest.toFixed(1)} µs CPU/request`);
    for (const r of others) if (one && r) log(`${r.system.replace('reverse-proxy/', '')} / 1 route, median rounds: ${(r.rps / one.rps).toFixed(3)}× req/s, ${(r.cpuUsPerRequest / one.cpuUsPerRequest).toFixed(3)}× CPU per request`);
    for (const c of paired ?? []) log(`head to head: ${describeComparison(c)}`);
  }

  for (const c of CONFIGS) {
    const instance = await startOurInstance(join(workDir, `reload-${c.id.replace('/', '_')}`), { workers, upstreamPort: upstream.port, hosts: siteHosts(), accessLog: false, siteTables: c.siteTables });
    try {
      for (const kind of reloadKinds()) {
        const samples: number[] = [];
        for (let i = 0; i < Number(values.reloads); i++) {
          const reply = await kind.reload(instance, i);
          if (!reply.ok) throw new Error(`reload failed: ${reply.reply.trim()}`);
          samples.push(reply.ms);
        }
        const d = distribution(samples);
        log(`reload (${kind.label}), ${c.label}: p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms over ${d.count}`);
      }
    } finally {
      await instance.stop();
    }
  }
} finally {
  await upstream.child.stop();
}
