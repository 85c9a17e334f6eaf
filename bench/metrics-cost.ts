// Micro-benchmark: what counting one request costs on the worker's request path, with
// prom-client's Counter/Gauge/Histogram (labelled by site and status class, as a proxy would
// use them) against the plain TrafficRecord of src/metrics/recorder.ts. Not part of npm test.
//
//   ./node_modules/.bin/node bench/metrics-cost.ts [--requests N] [--rounds N]
//
// Each "request" does what the request path does per request: in-flight up and down, one
// status-class count, bytes in and out, a total-duration and a first-byte observation. Sites
// rotate among 8 so a cache of one label set cannot flatter prom-client.
import { parseArgs } from 'node:util';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS_SECONDS } from '../src/metrics/layout.ts';
import { NO_REASON, TrafficRecord, requestFinished, requestStarted } from '../src/metrics/recorder.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } } });
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const SITES = Array.from({ length: 8 }, (_, i) => `site-${i}.example.com`);
const STATUSES = [200, 200, 200, 404, 200, 502, 200, 304];

function promClientCounting(): (i: number) => void {
  const registers = [new Registry()];
  const requests = new Counter({ name: 'requests_total', help: 'h', labelNames: ['site', 'code_class'], registers });
  const bytesIn = new Counter({ name: 'received_bytes_total', help: 'h', labelNames: ['site'], registers });
  const bytesOut = new Counter({ name: 'sent_bytes_total', help: 'h', labelNames: ['site'], registers });
  const inFlight = new Gauge({ name: 'in_flight', help: 'h', labelNames: ['site'], registers });
  const buckets = [...DURATION_BUCKETS_SECONDS];
  const duration = new Histogram({ name: 'duration_seconds', help: 'h', labelNames: ['site'], buckets, registers });
  const firstByte = new Histogram({ name: 'first_byte_seconds', help: 'h', labelNames: ['site'], buckets, registers });
  const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'];
  return (i) => {
    const site = SITES[i & 7]!;
    const status = STATUSES[i & 7]!;
    inFlight.inc({ site });
    inFlight.dec({ site });
    requests.inc({ site, code_class: classes[Math.floor(status / 100) - 1]! });
    bytesIn.inc({ site }, 120);
    bytesOut.inc({ site }, 250);
    duration.observe({ site }, 0.0012);
    firstByte.observe({ site }, 0.0009);
  };
}

function recorderCounting(): (i: number) => void {
  const records = SITES.map((site) => new TrafficRecord({ site }));
  return (i) => {
    const record = records[i & 7]!;
    requestStarted(record);
    requestFinished(record, STATUSES[i & 7]!, NO_REASON, 120, 250, 1.2, 0.9);
  };
}

function nsPerRequest(count: (i: number) => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) count(i);
  return Number(process.hrtime.bigint() - started) / REQUESTS;
}

const contenders = { 'prom-client': promClientCounting(), recorder: recorderCounting() };
// Warm both up so the JIT has compiled them before anything is timed.
for (const count of Object.values(contenders)) for (let i = 0; i < 200_000; i++) count(i);
const results: Record<string, number[]> = { 'prom-client': [], recorder: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, count] of Object.entries(contenders)) results[name]!.push(nsPerRequest(count));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, rounds] of Object.entries(results)) {
  console.log(`${name.padEnd(12)} median ${median(rounds).toFixed(0).padStart(6)} ns/request   rounds: ${rounds.map((r) => r.toFixed(0)).join(', ')}`);
}
