// The master's `[metrics]` listener: GET on the configured path answers the scrape; anything
// else is a short plain-text refusal. The master serves no traffic, so this is a plain
// node:http server; scrapers never need a long-lived connection.
import type { Server } from 'node:http';
import type { MetricsConfig } from '../config/schema.ts';
import { http, listenEndpoint, type ListeningEndpoint } from '../node-http.ts';
import { METRICS_CONTENT_TYPE } from './text-format.ts';

/** Keep-alive on the metrics listener: long enough for one scrape, short enough to hold nothing. */
const METRICS_KEEP_ALIVE_MS = 1_000;
/** A scrape whose answer takes longer than this fails with 503 rather than hanging the scraper. */
const SCRAPE_TIMEOUT_MS = 5_000;

export type MetricsListener = ListeningEndpoint;

export async function startMetricsListener(config: MetricsConfig, scrape: () => Promise<string>, onError: (err: Error) => void): Promise<MetricsListener> {
  const server: Server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== config.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: metrics are at ${config.path}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${SCRAPE_TIMEOUT_MS} ms`)), SCRAPE_TIMEOUT_MS);
    });
    Promise.race([scrape(), timeout])
      .then((body) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : body))
      .catch((err: Error) => {
        onError(err);
        res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable; see the proxy logs\n');
      })
      .finally(() => clearTimeout(timer));
  });
  server.keepAliveTimeout = METRICS_KEEP_ALIVE_MS;
  return listenEndpoint(server, config.port, config.address);
}
