// The demo upstreams both e2e stages put behind the proxy: plain JavaScript run with `node -e`,
// so it runs the same as a host process and inside the image (which holds no e2e files).
// UPSTREAMS="blue=8081,green=8082" starts one server per entry (port 0 picks a free one), each
// answering every request with its name; `/slow?ms=N` answers after N ms (an in-flight request
// to watch a drain finish). Prints `listening <name> <port>` per server once bound. On SIGTERM it
// drains like a well-behaved app in a pod: stops accepting, finishes what is in flight, exits 0.
export const ECHO_UPSTREAM_JS = `
const http = require('node:http');
let draining = false;
const servers = (process.env.UPSTREAMS || 'upstream=0').split(',').map((entry) => {
  const [name, port] = entry.split('=');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms') || 1000) : 0;
    setTimeout(() => {
      if (draining) res.setHeader('connection', 'close');
      res.end(name + '\\n');
    }, ms);
  });
  server.listen(Number(port), '127.0.0.1', () => console.log('listening ' + name + ' ' + server.address().port));
  return server;
});
process.on('SIGTERM', () => {
  draining = true;
  let open = servers.length;
  for (const s of servers) s.close(() => --open === 0 && process.exit(0));
  setTimeout(() => process.exit(0), 20000).unref();
});
`.trim();

/** Parses the `listening <name> <port>` lines into a name → port map. */
export function listeningPorts(lines: readonly string[]): Map<string, number> {
  const ports = new Map<string, number>();
  for (const line of lines) {
    const match = /^listening (\S+) (\d+)$/.exec(line);
    if (match) ports.set(match[1]!, Number(match[2]));
  }
  return ports;
}
