// Micro-benchmark of the HTTP/1.1 parser: CPU ns per head for a few typical heads (findHeadEnd +
// parse + framing, as the connection calls them) and MB/s for the chunked decoder. Not run by
// `npm test` or `npm run bench`; run it alone: `node bench/parser.ts [--ms 1000]`.
// It reports time on this machine, not a pass/fail: compare runs on the same machine.
import { ChunkedDecoder } from '../src/proxy/http1/chunked.ts';
import type { HeadLimits } from '../src/proxy/http1/message.ts';
import { findHeadEnd, parseRequestHead, parseResponseHead, requestBodyFraming, responseBodyFraming } from '../src/proxy/http1/parser.ts';

const LIMITS: HeadLimits = { maxStartLineBytes: 8_192, maxHeadBytes: 65_536, maxHeaderCount: 256 };
const msIndex = process.argv.indexOf('--ms');
const RUN_MS = msIndex > 0 ? Number(process.argv[msIndex + 1]) : 1_000;

const heads = {
  'small GET (wrk-like, 2 fields)': 'GET /small HTTP/1.1\r\nHost: site-1.example.test\r\nConnection: keep-alive\r\n\r\n',
  'browser GET (10 fields)':
    'GET /assets/app.js?v=1234 HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
    'Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nReferer: https://www.example.test/\r\n' +
    'Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\nConnection: keep-alive\r\nSec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\n\r\n',
  'POST with Content-Length': 'POST /upload HTTP/1.1\r\nHost: api.example.test\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n',
};
const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nDate: Tue, 01 Dec 2026 20:00:00 GMT\r\nConnection: keep-alive\r\n\r\n';

/**
 * Runs `once` for about RUN_MS after a warm-up and returns CPU ns per call: CPU time rather
 * than wall time, so other processes on a shared machine inflate the result less.
 */
function measure(once: () => unknown): number {
  let sink = 0;
  const warmUntil = performance.now() + RUN_MS / 4;
  while (performance.now() < warmUntil) for (let i = 0; i < 1_000; i++) sink ^= once() === undefined ? 1 : 0;
  let calls = 0;
  const cpu = process.cpuUsage();
  const until = performance.now() + RUN_MS;
  while (performance.now() < until) {
    for (let i = 0; i < 1_000; i++) sink ^= once() === undefined ? 1 : 0;
    calls += 1_000;
  }
  const used = process.cpuUsage(cpu);
  if (sink === 42) console.log(''); // keeps the results observable to the optimiser
  return ((used.user + used.system) * 1_000) / calls;
}

for (const [name, text] of Object.entries(heads)) {
  const buf = Buffer.from(text, 'latin1');
  const ns = measure(() => {
    const end = findHeadEnd(buf, 0, 0, buf.length, LIMITS, 'request') as number;
    const head = parseRequestHead(buf, 0, end, LIMITS);
    return 'code' in head ? undefined : requestBodyFraming(head);
  });
  console.log(`request head  ${name.padEnd(34)} ${buf.length.toString().padStart(4)} B  ${ns.toFixed(0).padStart(5)} ns`);
}

{
  const buf = Buffer.from(response, 'latin1');
  const ns = measure(() => {
    const end = findHeadEnd(buf, 0, 0, buf.length, LIMITS, 'response') as number;
    const head = parseResponseHead(buf, 0, end, LIMITS);
    return 'code' in head ? undefined : responseBodyFraming(head, 'GET');
  });
  console.log(`response head ${'small 200 (4 fields)'.padEnd(34)} ${buf.length.toString().padStart(4)} B  ${ns.toFixed(0).padStart(5)} ns`);
}

{
  // 64 KiB of body in 16 chunks of 4 KiB, decoded from reads of 16 KiB.
  const chunk = `1000\r\n${'x'.repeat(4_096)}\r\n`;
  const body = Buffer.from(`${chunk.repeat(16)}0\r\n\r\n`, 'latin1');
  const decoder = new ChunkedDecoder();
  const ns = measure(() => {
    decoder.reset();
    let bytes = 0;
    for (let from = 0; from < body.length; from += 16_384) {
      decoder.decode(body, from, Math.min(body.length, from + 16_384), (data) => (bytes += data.length));
    }
    return decoder.done ? bytes : undefined;
  });
  console.log(`chunked body  ${'64 KiB in 4 KiB chunks'.padEnd(34)} ${body.length.toString().padStart(4)} B  ${ns.toFixed(0).padStart(5)} ns  (${((body.length / ns) * 1e3).toFixed(0)} MB/s)`);
}
