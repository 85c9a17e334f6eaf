// How far our engine is from the least a Node process can do per request, and how far that
// least is from nginx: the pass-through of floor-server.ts beside our proxy and nginx, one
// process or worker each, on the shared upstream, in rotated rounds and head-to-head pairs
// (paired.ts). Not part of `npm run bench` or `npm test`:
//
//   ./node_modules/.bin/node bench/node-floor.ts [--rounds N] [--secs N] [--pairs N]
//
// Floor ÷ nginx says what Node itself costs on this machine (reads, writes, event loop);
// ours ÷ floor says what our request path adds on top (parse, route, heads, books).
// Small GETs only: the floor copies every chunk it passes on into a string, which on 64 KiB
// responses costs about what the engine saves by lending its read buffers, so there it is no floor.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnLogged, waitForPort } from './child.ts';
import { systemKey } from './compare.ts';
import { nginxPeer } from './peers/nginx.ts';
import { reverseProxyPeer } from './peers/reverse-proxy.ts';
import { runningChild, type Peer } from './peers/types.ts';
import { measureThroughput } from './throughput.ts';
import { NGINX as NGINX_TOOL, WRK, requireTools } from './tools.ts';
import { startUpstream } from './upstream.ts';
import { closedPort } from '../test/helpers/ports.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, secs: { type: 'string', default: '2' }, pairs: { type: 'string', default: '24' } } });
requireTools([WRK, NGINX_TOOL]);

const floorPeer: Peer = {
  id: 'node-floor',
  label: 'Node pass-through (floor-server.ts)',
  family: 'node',
  async start(o) {
    const port = await closedPort();
    const child = spawnLogged(process.execPath, [join(import.meta.dirname, 'floor-server.ts'), String(port), String(o.upstreamPort)], join(o.workDir, 'stdout.log'));
    await waitForPort(child, port);
    return runningChild(child, port);
  },
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
const upstream = await startUpstream(workDir);
try {
  const workloads = ['small-get'] as const;
  const systems = [floorPeer, reverseProxyPeer, nginxPeer].map((peer) => ({ peer, workers: 1, workloads }));
  const floor = systemKey(floorPeer.id, 1);
  const ours = systemKey(reverseProxyPeer.id, 1);
  const nginx = systemKey(nginxPeer.id, 1);
  const settings = { connections: 32, durationSecs: Number(values.secs), rounds: Number(values.rounds), systemWarmupSecs: 2, workloadWarmupSecs: 1 };
  const pairs = Number(values.pairs);
  const comparisons = [
    { candidate: floor, baseline: nginx },
    { candidate: ours, baseline: floor },
    { candidate: ours, baseline: nginx },
  ];
  const plan = { settings: { pairs, roundSecs: 1, connections: settings.connections }, comparisons: pairs > 0 ? comparisons : [] };
  const { rows, failures } = await measureThroughput(systems, upstream.port, settings, workDir, log, plan);
  for (const f of failures) log(`failed: ${f}`);
  for (const r of rows) log(`${r.system.padEnd(14)} ${r.workload.padEnd(10)} ${Math.round(r.rps)} req/s (rounds ${r.roundsRps.map(Math.round).join(', ')}), ${r.cpuUsPerRequest.toFixed(1)} µs CPU/request`);
} finally {
  await upstream.child.stop();
}
