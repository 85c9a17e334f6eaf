// node-http-proxy (`http-proxy`) peer process: the long-standing Node reverse proxy, with a
// keep-alive agent towards the upstream (its default is a new connection per request).
import { createRequire } from 'node:module';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { routingTable, runClustered } from './node-cluster.ts';

// http-proxy ships no types and @types/http-proxy is not a dependency; this is the part we use.
interface HttpProxy {
  web(req: IncomingMessage, res: ServerResponse, options: { target: string }, onError: (err: Error) => void): void;
}
const httpProxy = createRequire(import.meta.url)('http-proxy') as {
  createProxyServer(options: { agent: Agent; xfwd: boolean }): HttpProxy;
};

runClustered((settings) => {
  const proxy = httpProxy.createProxyServer({ agent: new Agent({ keepAlive: true, maxSockets: 256 }), xfwd: true });
  const route = routingTable(settings);
  const server = createServer((req, res) => {
    proxy.web(req, res, { target: route(req.headers.host) }, () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(settings.port, '127.0.0.1');
});
