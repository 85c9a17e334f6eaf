// The access line is built by hand (src/proxy/access-log.ts) for speed; it must stay exactly
// the line pino would write for the same fields, escaping included, whatever the record holds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const script = `
import { createLogger } from ${JSON.stringify(new URL('../src/log.ts', import.meta.url).href)};
import { flushAccessLog, logAccess } from ${JSON.stringify(new URL('../src/proxy/access-log.ts', import.meta.url).href)};
const logger = createLogger({ level: 'info', component: 'worker', bindings: { relative_pid: 3 } });
const records = [
  { method: 'GET', host: 'a.example', path: '/q?x="1"&y=\\\\n\\u00e9', status: 200, upstream: 'http://127.0.0.1:9', route: 'routes[2]', attempts: 2, startedAt: performance.now(), bytesIn: 0, bytesOut: 6, remote: '127.0.0.1', error: undefined },
  { method: undefined, host: undefined, path: undefined, status: 408, upstream: undefined, route: undefined, attempts: 0, startedAt: performance.now(), bytesIn: 0, bytesOut: 40, remote: '::1', error: 'ERR_CLIENT_HEADER_TIMEOUT' },
  { method: 'POST', host: 'b.example', path: '/\u00ff\u0080/x%20y', status: 502, upstream: 'https://10.0.0.7:8443', route: 'api-v2_x', attempts: 3, startedAt: performance.now() - 1234.5678, bytesIn: 9007199254740991, bytesOut: 1234567890123, remote: '', error: 'ERR_UPSTREAM_UNREACHABLE', requestId: 'a"b\\c' },
  { method: 'GET', host: 'c.example', path: '/', status: 200, upstream: 'http://127.0.0.1:1', route: undefined, attempts: 1, startedAt: performance.now(), bytesIn: 10, bytesOut: 100, remote: '192.0.2.1', error: undefined, requestId: 'e920373a3d429ab1-1' },
];
for (const r of records) {
  logAccess(logger, r);
  flushAccessLog();
  logger.info({ event: 'access', method: r.method, host: r.host, path: r.path, status: r.status, upstream: r.upstream ?? null, route: r.route ?? null, attempts: r.attempts, duration_ms: 0, bytes_in: r.bytesIn, bytes_out: r.bytesOut, remote: r.remote, ...(r.error === undefined ? {} : { error: r.error }), ...(r.requestId === undefined ? {} : { request_id: r.requestId }) });
}
`;

test('logAccess writes the line pino would write for the same access record', () => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 8);
  const normalize = (line: string) => ({ ...JSON.parse(line), time: 'T', duration_ms: 0 });
  for (let i = 0; i < lines.length; i += 2) {
    const [ours, pinos] = [lines[i]!, lines[i + 1]!];
    assert.deepEqual(normalize(ours), normalize(pinos));
    // Byte for byte too, once the two values that differ by nature are blanked out.
    const blank = (line: string) => line.replace(/"time":"[^"]*"/, '"time":""').replace(/"duration_ms":[0-9.]+/, '"duration_ms":0');
    assert.equal(blank(ours), blank(pinos));
  }
});

