// The upstream every system proxies to, run as its own process so its CPU use is the same for
// every system measured. Three fixed endpoints, answers precomputed once: the point is to
// measure the proxy in front, not this server.
//   GET  /small  → 6-byte body        GET /64k → 64 KiB body        POST /upload → drains the body
// Usage: node bench/upstream-server.ts <port>
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const SMALL = Buffer.from('hello\n');
const LARGE = Buffer.alloc(64 * 1024, 'x');
const UPLOADED = Buffer.from('uploaded\n');

function reply(res: import('node:http').ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method === 'POST') {
    req.on('data', () => {});
    req.on('end', () => reply(res, UPLOADED));
    return;
  }
  reply(res, req.url === '/64k' ? LARGE : SMALL);
});
// Proxies keep pooled connections open between runs; never let the upstream cut them first.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // idle keep-alive connections from proxies would hold close() open
});
