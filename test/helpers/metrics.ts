// Scraping the master's `[metrics]` listener of a running proxy, parsed strictly.
import { get as httpGet } from 'node:http';
import type { ProxyProcess } from './proxy-process.ts';
import { parsePrometheusText, type ParsedFamily } from './prom-text.ts';

/** The `[metrics]` table the harness adds: loopback, a free port. */
export const METRICS_TABLE = '[metrics]\naddress = "127.0.0.1"\nport = 0\n\n';

export async function metricsAddress(proxy: ProxyProcess): Promise<string> {
  const ready = await proxy.waitForLog((l) => l.event === 'ready');
  const address = ready.metrics;
  if (typeof address !== 'string') throw new Error('the proxy started without its metrics listener');
  return address;
}

export function fetchText(url: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

export async function scrape(proxy: ProxyProcess): Promise<Map<string, ParsedFamily>> {
  const reply = await fetchText(`http://${await metricsAddress(proxy)}/metrics`);
  if (reply.status !== 200) throw new Error(`scrape answered ${reply.status}: ${reply.body}`);
  return parsePrometheusText(reply.body);
}
