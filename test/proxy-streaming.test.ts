// A 1 GiB upload and a 1 GiB download through the real proxy: both must arrive complete while
// the worker's resident memory stays flat — proof that bodies stream with backpressure instead
// of being buffered.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startProxy, type ProxyProcess } from './helpers/proxy-process.ts';

const GIB = 1024 ** 3;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Growth allowed over the idle worker's RSS; buffering the body would add ~1 GiB. */
const MAX_RSS_GROWTH_BYTES = 150 * 1024 ** 2;

function generate(total: number): Readable {
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      this.push(chunk);
    },
  });
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status);
  assert.ok(kib, 'VmRSS readable');
  return Number(kib[1]) * 1024;
}

/** The worker is the master's only child with workers = 1. */
async function workerPid(masterPid: number): Promise<number> {
  const children = (await readFile(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
  assert.equal(children.length, 1, 'one worker process');
  return Number(children[0]);
}

/** Samples RSS until stopped; returns the peak. */
function watchRss(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssBytes(pid));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

describe('streaming with backpressure', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let upstream: Server;
  let proxy: ProxyProcess;
  let worker: number;

  before(async () => {
    upstream = createServer((req, res) => {
      if (req.url === '/download') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(GIB) });
        generate(GIB).pipe(res);
        return;
      }
      let received = 0;
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => res.end(String(received)));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    proxy = await startProxy({ config: `[[sites]]\nhost = "big.test"\nupstream = "http://127.0.0.1:${port}"\n` });
    worker = await workerPid(proxy.pid);
  });

  after(async () => {
    await proxy?.stop();
    upstream?.closeAllConnections();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('streams a 1 GiB chunked upload to the upstream without growing memory', { timeout: 90_000 }, async () => {
    const baseline = await rssBytes(worker);
    const rss = watchRss(worker);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, method: 'PUT', path: '/upload', headers: { host: 'big.test' }, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      generate(GIB).pipe(req);
    });
    const peak = await rss.stop();
    assert.equal(Number(answer), GIB);
    assert.ok(peak - baseline < MAX_RSS_GROWTH_BYTES, `worker RSS grew by ${Math.round((peak - baseline) / 1024 ** 2)} MiB`);
  });

  it('streams a 1 GiB download to a slow-starting client without growing memory', { timeout: 90_000 }, async () => {
    const baseline = await rssBytes(worker);
    const rss = watchRss(worker);
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, path: '/download', headers: { host: 'big.test' }, agent: false }, (res) => {
        let bytes = 0;
        // Hold off reading for a moment: the upstream must be paused, not buffered.
        res.pause();
        setTimeout(() => res.resume(), 1_000);
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const peak = await rss.stop();
    assert.equal(received, GIB);
    assert.ok(peak - baseline < MAX_RSS_GROWTH_BYTES, `worker RSS grew by ${Math.round((peak - baseline) / 1024 ** 2)} MiB`);
  });
});
