// HAProxy as a peer: threads as the worker count, a host map (how HAProxy users route many
// hosts), keep-alive and connection reuse towards the upstream, the headers ours forwards. No
// access log (HAProxy only logs to syslog); the access-log comparison is made with our proxy alone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnLogged, waitForPort } from '../child.ts';
import { closedPort } from '../../test/helpers/ports.ts';
import { findProgram } from '../tools.ts';
import { runningChild, type Peer, type StartOptions } from './types.ts';

function haproxyConfig(o: StartOptions, port: number, mapPath: string): string {
  return `global
  nbthread ${o.workers}
  maxconn 8000
defaults
  mode http
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s

frontend bench
  bind 127.0.0.1:${port}
  # What our proxy forwards by default (see nginx.ts): X-Forwarded-Proto/-Host, X-Real-IP and a
  # request ID both ways, besides option forwardfor's X-Forwarded-For.
  unique-id-format %{+X}o%[rand,hex]%[rand,hex]
  unique-id-header x-request-id
  http-request set-header x-forwarded-proto http
  http-request set-header x-real-ip %[src]
  http-request set-header x-forwarded-host %[req.hdr(host)]
  http-after-response set-header x-request-id %[unique-id]
  use_backend %[req.hdr(host),field(1,:),lower,map(${mapPath},upstream_pool)]
  default_backend upstream_pool

backend upstream_pool
  server upstream 127.0.0.1:${o.upstreamPort}
`;
}

export const haproxyPeer: Peer = {
  id: 'haproxy',
  label: 'HAProxy',
  family: 'native',
  async start(o) {
    const port = await closedPort();
    const mapPath = join(o.workDir, 'hosts.map');
    writeFileSync(mapPath, o.hosts.map((h) => `${h} upstream_pool\n`).join(''));
    const configPath = join(o.workDir, 'haproxy.cfg');
    writeFileSync(configPath, haproxyConfig(o, port, mapPath));
    const child = spawnLogged(findProgram('haproxy') ?? 'haproxy', ['-db', '-f', configPath], join(o.workDir, 'stdout.log'));
    await waitForPort(child, port);
    return runningChild(child, port);
  },
};
