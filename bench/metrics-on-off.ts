// What the traffic metrics cost (issue 15: ≤3% on small GETs): our proxy with metrics off and
// with `[metrics]` on and scraped every second (far more often than Prometheus would), side by
// side in rotated rounds on the same upstream. Not part of `npm run bench` or `npm test`:
//
//   ./node_modules/.bin/node bench/metrics-on-off.ts [--workers N] [--rounds N] [--secs N] [--pairs N] [--scrape-ms N]
//
// The ≤3% is judged head to head (paired.ts: `--pairs` alternating 1 s rounds of on and off).
//
// Both systems count every request (the taps cannot be turned off): what differs is the
// `[metrics]` listener and the collections a scrape makes. bench/metrics-cost.ts measures the taps.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startOurInstance } from './our-instance.ts';
import { reverseProxyPeer } from './peers/reverse-proxy.ts';
import type { Peer } from './peers/types.ts';
import { closedPort } from '../test/helpers/ports.ts';
import { describeComparison } from './paired.ts';
import { systemKey } from './compare.ts';
import { measureThroughput } from './throughput.ts';
import { WRK, requireTools } from './tools.ts';
import { startUpstream } from './upstream.ts';

const { values } = parseArgs({
  options: { workers: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' }, secs: { type: 'string', default: '2' }, pairs: { type: 'string', default: '40' }, 'scrape-ms': { type: 'string', default: '1000' } },
});
/** How often the "on" system is scraped while it carries the load (Prometheus's usual: 15-60 s). */
const SCRAPE_EVERY_MS = Number(values['scrape-ms']);
requireTools([WRK]);

const metricsOnPeer: Peer = {
  id: 'reverse-proxy+metrics',
  label: `reverse-proxy, metrics on and scraped every ${SCRAPE_EVERY_MS} ms`,
  family: 'ours',
  async start(o) {
    const metricsPort = await closedPort();
    const instance = await startOurInstance(o.workDir, { workers: o.workers, upstreamPort: o.upstreamPort, hosts: o.hosts, accessLog: o.accessLog, metricsPort });
    const scraper = setInterval(() => {
      fetch(`http://127.0.0.1:${metricsPort}/metrics`)
        .then((r) => r.text())
        .catch(() => undefined);
    }, SCRAPE_EVERY_MS);
    return { ...instance.system, stop: () => (clearInterval(scraper), instance.stop()) };
  },
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'bench-metrics-'));
const workers = Number(values.workers);
const upstream = await startUpstream(workDir);
try {
  const settings = { connections: 32, durationSecs: Number(values.secs), rounds: Number(values.rounds), systemWarmupSecs: 2, workloadWarmupSecs: 1 };
  const systems = [reverseProxyPeer, metricsOnPeer].map((peer) => ({ peer, workers, workloads: ['small-get' as const] }));
  const plan = {
    settings: { pairs: Number(values.pairs), roundSecs: 1, connections: settings.connections },
    comparisons: Number(values.pairs) > 0 ? [{ candidate: systemKey(metricsOnPeer.id, workers), baseline: systemKey(reverseProxyPeer.id, workers) }] : [],
  };
  const { rows, paired, failures } = await measureThroughput(systems, upstream.port, settings, workDir, log, plan);
  for (const f of failures) log(`failed: ${f}`);
  const off = rows.find((r) => r.system === reverseProxyPeer.id);
  const on = rows.find((r) => r.system === metricsOnPeer.id);
  for (const r of [off, on]) if (r) log(`${r.system.padEnd(24)} ${Math.round(r.rps)} req/s (rounds ${r.roundsRps.map(Math.round).join(', ')}), ${r.cpuUsPerRequest.toFixed(1)} µs CPU/request`);
  if (off && on) log(`metrics on / off, median rounds: ${(on.rps / off.rps).toFixed(3)}× req/s, ${(on.cpuUsPerRequest / off.cpuUsPerRequest).toFixed(3)}× CPU per request`);
  for (const c of paired ?? []) log(`head to head: ${describeComparison(c)}`);
} finally {
  await upstream.child.stop();
}
