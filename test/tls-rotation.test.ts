// A cert-manager renewal as a pod sees it: the certificate lives in a kubernetes.io/tls Secret
// volume that kubelet updates by swapping `..data`, the reloader watches only the config dir
// (it follows the certificate's directory by itself), and clients keep making new handshakes
// and requests throughout. Exactly one reload, the new certificate for new handshakes, an open
// connection carrying on with the old one, and not one failed request.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { createCa, handshake, hasOpenssl, httpsGet, issue, type KeyPair } from './helpers/tls.ts';
import { createConfigMapVolume } from './helpers/kubelet.ts';
import { startProxy } from './helpers/proxy-process.ts';
import { startReloader } from './helpers/reloader-process.ts';
import { echo, startUpstream } from './helpers/upstream.ts';

const DEBOUNCE_MS = 100;
/** Time in which a spurious second reload would have happened (many debounces, one resync). */
const QUIET_MS = 2_500;
const CLIENTS = 4;

const secretFiles = (pair: KeyPair, ca: KeyPair) => ({ 'tls.crt': pair.cert, 'tls.key': pair.key, 'ca.crt': ca.cert });

/** GET on a kept-alive connection; resolves with the fingerprint that connection was opened with. */
function getOn(agent: Agent, port: number, ca: Buffer): Promise<{ status: number; fingerprint256: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/kept', servername: 'app.test', headers: { host: 'app.test' }, ca, agent }, (res) => {
      const socket = res.socket as TLSSocket;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint256: socket.getPeerCertificate().fingerprint256, socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a Secret renewal through a kubelet ..data swap: one reload, new certificate, 0 failed requests', { skip: !hasOpenssl() && 'openssl not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rp-rotation-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await createCa(dir);
  const [first, renewed] = await Promise.all([issue(dir, ca, { names: ['app.test'], file: 'first' }), issue(dir, ca, { names: ['app.test'], file: 'renewed' })]);
  const secret = await createConfigMapVolume(secretFiles(first, ca), dir);
  const upstream = await startUpstream(echo('app'));
  t.after(() => upstream.close());

  const certificate = `[[certificates]]\ncert = "${join(secret.dir, 'tls.crt')}"\nkey = "${join(secret.dir, 'tls.key')}"\n\n`;
  const proxy = await startProxy({ t, tls: true, accessLog: false, config: `${certificate}[[sites]]\nhost = "app.test"\nupstream = "${upstream.url}"\n` });
  const reloader = startReloader(t, ['--watch', proxy.dir, '--socket', proxy.socketPath, '--debounce-ms', String(DEBOUNCE_MS)]);
  const following = await reloader.waitForLog((l) => l.event === 'watch_dirs');
  assert.ok((following.dirs as string[]).includes(secret.dir), 'the reloader follows the certificate directory');
  const inSync = await reloader.waitForLog((l) => l.event === 'in_sync');
  const info = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };
  assert.equal(inSync.sha256, info.config_sha256, 'the reloader hashes the config and its certificate the way the proxy does');

  const kept = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => kept.destroy());
  const before = await getOn(kept, proxy.port, ca.cert);
  assert.equal(before.fingerprint256, first.fingerprint256);

  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const served = new Set<string>();
  const client = async () => {
    while (!stop) {
      try {
        const reply = await httpsGet(proxy.port, 'app.test', ca.certPath, '/load');
        if (reply.status === 200) ok++;
        else failures.push(`status ${reply.status}`);
        served.add(reply.fingerprint256);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);

  await sleep(300);
  await secret.swap(secretFiles(renewed, ca));
  const reload = await reloader.waitForLog((l) => l.event === 'reload');
  assert.equal(reload.result, 'ok', String(reload.message));
  await sleep(500);
  stop = true;
  await Promise.all(clients);

  assert.deepEqual(failures, [], 'no request failed during the rotation');
  assert.ok(ok > 0);
  assert.deepEqual(served, new Set([first.fingerprint256, renewed.fingerprint256]), 'new handshakes moved to the renewed certificate');
  assert.equal((await handshake(proxy.port, 'app.test')).fingerprint256, renewed.fingerprint256);

  const still = await getOn(kept, proxy.port, ca.cert);
  assert.equal(still.socket, before.socket, 'the open connection was kept');
  assert.deepEqual({ status: still.status, fingerprint256: still.fingerprint256 }, { status: 200, fingerprint256: first.fingerprint256 });

  await sleep(QUIET_MS);
  assert.equal(reloader.logs.filter((l) => l.event === 'reload').length, 1, 'exactly one reload for one renewal');
  assert.equal(proxy.logs.filter((l) => l.event === 'reload').length, 1);
  const after = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };
  assert.equal(after.config_sha256, reload.sha256, 'the proxy runs what the reloader hashed');
  t.diagnostic(`${ok} requests over new connections during the rotation, 0 failed`);
});
