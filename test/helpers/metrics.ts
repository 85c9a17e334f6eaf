// Scraping the master's `[metrics]` listener of a running proxy, parsed strictly, and the waits
// and read-outs the metrics tests share.
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { PROXY_REASONS, STATUS_CLASSES } from '../../src/metrics/layout.ts';
import type { ProxyProcess } from './proxy-process.ts';
import { parsePrometheusText, sampleValue, type ParsedFamily } from './prom-text.ts';
import { until } from './until.ts';
import type { Upstream } from './upstream.ts';

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

/** The site series of one site: requests by status class, outcomes by reason, histogram counts. */
export function siteFigures(families: Map<string, ParsedFamily>, site: string) {
  return {
    classes: Object.fromEntries(STATUS_CLASSES.map((c) => [c, sampleValue(families, 'reverse_proxy_site_requests_total', { site, code_class: c })])),
    reasons: Object.fromEntries(PROXY_REASONS.map((r) => [r, sampleValue(families, 'reverse_proxy_site_proxy_outcomes_total', { site, reason: r })])),
    durationCount: sampleValue(families, 'reverse_proxy_site_request_duration_seconds_count', { site }),
    firstByteCount: sampleValue(families, 'reverse_proxy_site_upstream_first_byte_seconds_count', { site }),
    inFlight: sampleValue(families, 'reverse_proxy_site_requests_in_flight', { site }),
  };
}

/** Resolves once the proxy has logged `count` access lines with this error code (each request is counted by then). */
export async function accessLinesWith(proxy: ProxyProcess, error: string, count: number): Promise<void> {
  const seen = () => proxy.logs.filter((l) => l.event === 'access' && l.error === error).length;
  if (seen() < count) await proxy.waitForLog(() => seen() >= count);
  assert.equal(seen(), count, `access lines with ${error}`);
}

/** Until `upstream` has received `count` requests (up to 15 s: a busy machine is slow), and no more. */
export async function upstreamHas(upstream: Upstream, count: number): Promise<void> {
  await until(() => upstream.requests.length >= count, `${count} requests at the upstream`);
  assert.equal(upstream.requests.length, count, 'requests that reached the upstream');
}
