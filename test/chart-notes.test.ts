// What `helm install` prints afterwards: the commands a person needs first (readiness, the socat
// one-liner on the right socket path), and a warning when the proxy would answer 404 to everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHART_DIR, helm } from './helpers/helm.ts';

async function notes(...args: string[]): Promise<string> {
  const { stdout } = await helm(['install', 'edge', CHART_DIR, '--dry-run=client', '--namespace', 'web', ...args]);
  const at = stdout.indexOf('NOTES:');
  assert.ok(at >= 0, 'helm prints NOTES');
  return stdout.slice(at);
}

test('NOTES show ctl status, the socat one-liner on the shared socket, and the first site as the example host', async () => {
  const text = await notes('--set-json', 'config.sites=[{"host":["shop.example.com","*.shop.example.com"],"upstream":"http://127.0.0.1:3000"}]');
  assert.match(text, /kubectl -n web exec deploy\/edge-reverse-proxy -c proxy -- reverse-proxy ctl status/);
  assert.match(text, /-- socat - UNIX-CONNECT:\/run\/reverse-proxy\/admin\.sock/);
  assert.match(text, /curl -H 'Host: shop\.example\.com'/);
  assert.doesNotMatch(text, /WARNING/);
});

test('NOTES warn when no site is configured', async () => {
  assert.match(await notes(), /WARNING: no sites are configured/);
});
