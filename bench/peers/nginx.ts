// nginx as a peer: one server block per site (how nginx users route hosts), keep-alive pool
// to the upstream, request bodies streamed like the Node proxies do, responses buffered in
// memory only (never spilled to temp files). Turning response buffering off made nginx 3×
// slower on 64 KiB responses here (small reads and writes), which would flatter everyone else.
// It forwards what our proxy forwards by default (Host as sent, X-Forwarded-For/-Proto/-Host,
// X-Real-IP, a request ID both ways): the upstream shares the cores, and each line it parses
// costs it CPU, so a peer that sent fewer would be measured doing less (bench/findings.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnLogged, waitForPort } from '../child.ts';
import { closedPort } from '../../test/helpers/ports.ts';
import { findProgram } from '../tools.ts';
import { runningChild, type Peer, type StartOptions } from './types.ts';

function nginxConfig(o: StartOptions, port: number): string {
  const location = `    location / {
      proxy_pass http://upstream_pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Request-Id $bench_request_id;
      add_header X-Request-Id $bench_request_id always;
      proxy_buffers 8 16k;
      proxy_buffer_size 16k;
      proxy_max_temp_file_size 0;
      proxy_request_buffering off;
    }`;
  const tls = o.tls ? `\n    ssl_certificate ${o.tls.certPath};\n    ssl_certificate_key ${o.tls.keyPath};\n    ssl_protocols TLSv1.2 TLSv1.3;` : '';
  const server = (names: string, extra: string) => `  server {
    listen 127.0.0.1:${port}${o.tls ? ' ssl' : ''}${extra};
    server_name ${names};${tls}
${location}
  }`;
  return `worker_processes ${o.workers};
user root;
daemon off;
pid ${o.workDir}/nginx.pid;
error_log ${o.workDir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${o.accessLog ? `${o.workDir}/access.log` : 'off'};
  client_body_temp_path ${o.workDir}/tmp/body;
  proxy_temp_path ${o.workDir}/tmp/proxy;
  fastcgi_temp_path ${o.workDir}/tmp/fastcgi;
  uwsgi_temp_path ${o.workDir}/tmp/uwsgi;
  scgi_temp_path ${o.workDir}/tmp/scgi;
  client_max_body_size 2m;
  client_body_buffer_size 128k;
  keepalive_requests 1000000;
  server_names_hash_max_size 4096;
  server_names_hash_bucket_size 64;
  # A request ID as ours makes one: the client's when it sent one, else a new one.
  map $http_x_request_id $bench_request_id {
    default $http_x_request_id;
    "" $request_id;
  }
  upstream upstream_pool {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 64;
  }
${server('_', ' default_server')}
${o.hosts.map((h) => server(h, '')).join('\n')}
}
`;
}

export const nginxPeer: Peer = {
  id: 'nginx',
  label: 'nginx',
  family: 'native',
  async start(o) {
    const port = await closedPort();
    mkdirSync(join(o.workDir, 'tmp'), { recursive: true });
    const configPath = join(o.workDir, 'nginx.conf');
    writeFileSync(configPath, nginxConfig(o, port));
    const child = spawnLogged(findProgram('nginx') ?? 'nginx', ['-p', o.workDir, '-c', configPath], join(o.workDir, 'stdout.log'));
    await waitForPort(child, port);
    return runningChild(child, port);
  },
};
