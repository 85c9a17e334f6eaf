// `node bench/tls.ts [--quick]`: TLS on our proxy against nginx with the same certificate and
// the same upstream, rounds rotated so neither always runs first, and the time of a reload with
// 100 certificates. Not part of `npm run bench` (run it on its own); prints one JSON summary and
// writes it to bench/results/tls-latest.json.
//
//   small GETs   keep-alive https, 32 connections: the cost of TLS records on top of the proxy
//   handshakes   `Connection: close` on every request, so each one is a new TLS handshake
//   reload       `reload` of a config naming 100 certificates (read, checked, hashed, sent to
//                the workers, contexts built), the median of several
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issue, type KeyPair } from '../test/helpers/tls.ts';
import { timedCommand } from './admin.ts';
import { spawnLogged, waitForPort, waitUntilReady } from './child.ts';
import { runLoad, type LoadResult } from './load.ts';
import { CLI_SOURCES, PUBLISHED_NODE_FLAGS, REPO_ROOT } from './our-instance.ts';
import { freePort } from './ports.ts';
import { distribution, round } from './stats.ts';
import { findProgram, NGINX, requireTools, WRK } from './tools.ts';
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

const certificateToml = (pairs: readonly KeyPair[]) => pairs.map((p, i) => `[[certificates]]\ncert = "${p.certPath}"\nkey = "${p.keyPath}"\ndefault = ${i === 0}\n`).join('\n');

async function startOurs(dir: string, upstreamPort: number, pairs: readonly KeyPair[], variant = 0): Promise<System & { socket: string; rewrite(variant: number): void }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const configPath = join(dir, 'config.toml');
  const write = (v: number) =>
    writeFileSync(
      configPath,
      `admin_socket_path = "${socket}"\nworkers = 1\n[logging]\nlevel = "warn"\naccess_log = false\n[[listeners]]\naddress = "127.0.0.1"\nport = ${port}\ntls = true\n\n${certificateToml(pairs)}\n[[sites]]\nhost = "${HOST}"\nupstream = "http://127.0.0.1:${upstreamPort}"\nvia = ${v % 2 === 1}\n`,
    );
  write(variant);
  const child = spawnLogged(process.execPath, [...PUBLISHED_NODE_FLAGS, CLI_SOURCES, 'serve', '--config', configPath], join(dir, 'stdout.log'));
  await waitUntilReady(child, 'reverse-proxy status ok', 30_000, async () => (await timedCommand(socket, 'status', 1_000)).ok);
  await waitForPort(child, port);
  return { name: 'reverse-proxy', port, socket, rewrite: write, stop: () => child.stop(10_000) };
}

async function startNginx(dir: string, upstreamPort: number, pair: KeyPair): Promise<System> {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(
    configPath,
    `worker_processes 1;
user root;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  keepalive_requests 1000000;
  upstream upstream_pool { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${HOST};
    ssl_certificate ${pair.certPath};
    ssl_certificate_key ${pair.keyPath};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://upstream_pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
  );
  const child = spawnLogged(findProgram('nginx') ?? 'nginx', ['-p', dir, '-c', configPath], join(dir, 'stdout.log'));
  await waitForPort(child, port);
  return { name: 'nginx', port, stop: () => child.stop() };
}

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
  const ours = await startOurs(join(workDir, 'ours'), upstream.port, [served]);
  const nginx = await startNginx(join(workDir, 'nginx'), upstream.port, served);
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
  const reloading = await startOurs(join(workDir, 'reload'), upstream.port, many);
  const reloadMs: number[] = [];
  try {
    for (let i = 1; i <= RELOADS; i++) {
      reloading.rewrite(i);
      // The proxy waits for a file to be 25 ms quiet (CONFIG_QUIET_MS); that wait is not the reload.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const reply = await timedCommand(reloading.socket, 'reload', 60_000);
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
  writeFileSync(join(REPO_ROOT, 'bench', 'results', 'tls-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(JSON.stringify({ ratios: result.ratios, reloadWith100CertificatesMs: result.reloadWith100CertificatesMs }));
} finally {
  await upstream.child.stop();
}
