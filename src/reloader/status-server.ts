// The optional `--listen` endpoint: `/healthz` for a liveness probe and `/metrics` for
// Prometheus. Health reflects the reloader itself (its watcher runs), not the proxy: restarting
// the reloader because the proxy is down would help nobody.
import type { Server } from 'node:http';
import { http, listenEndpoint, type ListeningEndpoint } from '../node-http.ts';
import { METRICS_CONTENT_TYPE, type ReloaderMetrics } from './metrics.ts';

/** Probes and scrapers never need a long-lived connection. */
const STATUS_KEEP_ALIVE_MS = 1_000;

interface StatusServerOptions {
  host: string;
  port: number;
  metrics: ReloaderMetrics;
  watching: () => boolean;
}

export type StatusServer = ListeningEndpoint;

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const server: Server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/healthz') {
      const watching = options.watching();
      res.writeHead(watching ? 200 : 503, { 'content-type': 'text/plain' }).end(watching ? 'ok\n' : 'filesystem watcher is down; recreating it\n');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(options.metrics.render());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
    }
  });
  server.keepAliveTimeout = STATUS_KEEP_ALIVE_MS;
  return listenEndpoint(server, options.port, options.host);
}
