// `node bench/tls.ts [--quick]`: TLS on our proxy against nginx with the same certificate and
// the same upstream, rounds rotated so neither always runs first, and the time of a reload with
// 100 certificates. Not part of `npm run bench` (run it on its own); prints one JSON summary and
// writes it to bench/results/tls-latest.json (tls-quick-latest.json with --quick).
//
//   small GETs   keep-alive https, 32 connections: the cost of TLS records on top of the proxy
//   handshakes   `Connection: close` on every request, so each one is a new TLS handshake
//   reload       `reload` of a config naming 100 certificates (read, checked, hashed, sent to
//                the workers, contexts built), the median of several
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issue } from '../test/helpers/tls.ts';
import { runLoad, type LoadResult } from './load.ts';
import { REPO_ROOT, startOurInstance } from './our-instance.ts';
import { distribution, round } from './stats.ts';
import { nginxPeer } from './peers/nginx.ts';
import { NGINX, requireTools, WRK } from './tools.ts';
import { startUpstream } from './upstream.ts';
import type { Workload } from './workloads.ts';

const quick = process.argv.includes('--quick');
requireTools([WRK, NGINX]);

const HOST = 'bench.test';
const CONNECTIONS = 32;
const DURATION_SECS = quick ? 2 : 5;
const ROUNDS = quick ? 1 : 3;
const RELOAD_CERTIFICATES = 100;
const RELOADS = quick ? 3 : 10;

const SMALL_GET: Workload = { id: 'small-get', label: 'small GET over TLS, keep-alive', path: '/small', lua: `wrk.headers["Host"] = "${HOST}"\n` };
const HANDSHAKE: Workload = { id: 'small-get', label: 'new TLS handshake per request', path: '/small', lua: `wrk.headers["Host"] = "${HOST}"\nwrk.headers["Connection"] = "close"\n` };

const log = (line: string) => process.stdout.write(`${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'bench-tls-'));

interface System {
  name: string;
  port: number;
  stop(): Promise<void>;
}

/** Our side: one worker, no access log, the one site. */
const OURS = { workers: 1, hosts: [HOST], accessLog: false, defaultSite: false } as const;

const summary = (r: LoadResult) => ({ rps: r.rps, p99_ms: r.latencyMs.p99, socket_errors: r.socketErrors, non2xx: r.non2xx });

async function measure(systems: readonly System[], workload: Workload): Promise<Record<string, ReturnType<typeof summary>[]>> {
  const results: Record<string, ReturnType<typeof summary>[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated, so a machine that slows down over the run does not always hurt the same system.
    const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
    for (const system of order) {
      const result = summary(await runLoad({ port: system.port, workload, connections: CONNECTIONS, durationSecs: DURATION_SECS, scheme: 'https' }));
      (results[system.name] ??= []).push(result);
      log(`  ${workload.label}, round ${round + 1}: ${system.name} ${result.rps} req/s, p99 ${result.p99_ms} ms, errors ${result.socket_errors + result.non2xx}`);
    }
  }
  return results;
}

const best = (rows: readonly { rps: number }[]) => Math.max(...rows.map((r) => r.rps));

log(`bench tls: ${quick ? 'quick' : 'full'}, scratch ${workDir}`);
const certDir = join(workDir, 'certs');
mkdirSync(certDir);
const ca = await createCa(certDir);
const served = await issue(certDir, ca, { names: [HOST] });
const upstream = await startUpstream(workDir);
try {
  const ours = { name: 'reverse-proxy', ...(await startOurInstance(join(workDir, 'ours'), { ...OURS, upstreamPort: upstream.port, certificates: [served] })).system };
  const nginxDir = join(workDir, 'nginx');
  mkdirSync(nginxDir);
  const nginx = { name: 'nginx', ...(await nginxPeer.start({ workers: 1, upstreamPort: upstream.port, hosts: [HOST], workDir: nginxDir, accessLog: false, tls: served })) };
  let smallGet: Awaited<ReturnType<typeof measure>>;
  let handshakes: Awaited<ReturnType<typeof measure>>;
  try {
    log('throughput:');
    smallGet = await measure([ours, nginx], SMALL_GET);
    handshakes = await measure([ours, nginx], HANDSHAKE);
  } finally {
    await Promise.all([ours.stop(), nginx.stop()]);
  }

  log(`reload with ${RELOAD_CERTIFICATES} certificates:`);
  const many = [served];
  for (let i = 1; i < RELOAD_CERTIFICATES; i++) many.push(await issue(certDir, ca, { names: [`site-${i}.${HOST}`] }));
  const reloading = await startOurInstance(join(workDir, 'reload'), { ...OURS, upstreamPort: upstream.port, certificates: many });
  const reloadMs: number[] = [];
  try {
    for (let i = 1; i <= RELOADS; i++) {
      const reply = await reloading.reloadChanged();
      if (!reply.ok) throw new Error(`reload ${i} failed: ${reply.reply}`);
      reloadMs.push(reply.ms);
    }
  } finally {
    await reloading.stop();
  }

  const result = {
    kind: 'bench-tls',
    mode: quick ? 'quick' : 'full',
    finishedAt: new Date().toISOString(),
    settings: { connections: CONNECTIONS, durationSecs: DURATION_SECS, rounds: ROUNDS, workers: 1, key: 'EC P-256' },
    smallGet,
    handshakes,
    ratios: {
      small_get_vs_nginx: round(best(smallGet['reverse-proxy']!) / best(smallGet.nginx!)),
      handshakes_vs_nginx: round(best(handshakes['reverse-proxy']!) / best(handshakes.nginx!)),
    },
    reloadWith100CertificatesMs: distribution(reloadMs),
  };
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  // A quick run never stands in for a full one, as in bench/report.ts.
  writeFileSync(join(REPO_ROOT, 'bench', 'results', quick ? 'tls-quick-latest.json' : 'tls-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(JSON.stringify({ ratios: result.ratios, reloadWith100CertificatesMs: result.reloadWith100CertificatesMs }));
} finally {
  await upstream.child.stop();
}
