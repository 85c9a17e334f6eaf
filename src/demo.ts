// `reverse-proxy demo` (what `npm start` runs): a small upstream and the proxy in front of it,
// from a config written to a temp dir, so a newcomer can try requests, the admin socket and
// reloads without writing anything or needing root.
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from './node-http.ts';
import { Master } from './runtime/master.ts';

function startDemoUpstream(): Promise<Server> {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ message: 'hello from the demo upstream', method: req.method, url: req.url, headers: req.headers }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function portIsFree(port: number): Promise<boolean> {
  const probe = http.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function demoConfig(dir: string, port: number, upstreamPort: number): string {
  return `# Written by 'reverse-proxy demo'. Edit it, then reload:
#   npx reverse-proxy ctl --socket ${join(dir, 'admin.sock')} reload
admin_socket_path = "${join(dir, 'admin.sock')}"
workers = 1
shutdown_timeout_secs = 5

[[listeners]]
address = "127.0.0.1"
port = ${port}

[[sites]]
host = ["localhost", "127.0.0.1"]
default = true
upstream = "http://127.0.0.1:${upstreamPort}"
`;
}

export async function runDemo(preferredPort: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'reverse-proxy-demo-'));
  const upstream = await startDemoUpstream();
  const port = preferredPort === 0 || (await portIsFree(preferredPort)) ? preferredPort : 0;
  const configPath = join(dir, 'config.toml');
  await writeFile(configPath, demoConfig(dir, port, (upstream.address() as AddressInfo).port));
  const master = await Master.start(configPath);
  const url = `http://${master.listeners[0]}/`;
  const socket = join(dir, 'admin.sock');
  // Every command printed here is run as printed by test/first-run.test.ts, with Node 20 first
  // on PATH: keep one command per line, nothing after it.
  process.stderr.write(`
reverse-proxy demo is running${port !== preferredPort ? ` (port ${preferredPort} was busy, so a free one was picked)` : ''}
  try it:        curl ${url}
  admin socket:  ${socket}
                 npx reverse-proxy ctl --socket ${socket} status
                 npx reverse-proxy ctl --socket ${socket} show proc
                 (without a command, on a terminal: the interactive prompt; type help)
  config:        ${configPath}
  after an edit: npx reverse-proxy ctl --socket ${socket} reload
  stop:          Ctrl-C

`);
}
