// An https listener from cert/key files (self-signed with openssl, made per test run).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { get } from './helpers/http-client.ts';
import { runCli, startProxy, type ProxyProcess } from './helpers/proxy-process.ts';
import { checkCertificate } from '../src/config/certificates.ts';
import { hasOpenssl, httpsGet, makeCertificate } from './helpers/tls.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

function tlsConfig(certPath: string, keyPath: string, upstream: string): string {
  return `admin_socket_path = ""
workers = 1
shutdown_timeout_secs = 5

[[listeners]]
address = "127.0.0.1"
port = 0
tls_cert = "${certPath}"
tls_key = "${keyPath}"

[[sites]]
host = "secure.test"
upstream = "${upstream}"
`;
}

describe('TLS listener', { skip: !hasOpenssl() && 'openssl not installed' }, () => {
  let dir: string;
  let certPath: string;
  let keyPath: string;
  let upstream: Upstream;
  let proxy: ProxyProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-tls-'));
    ({ cert: certPath, key: keyPath } = makeCertificate(dir, 'secure.test'));
    upstream = await startUpstream(echo('behind-tls'));
    proxy = await startProxy({ raw: true, config: tlsConfig(certPath, keyPath, upstream.url) });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves https and tells the upstream with X-Forwarded-Proto: https', async () => {
    const { body } = await httpsGet(proxy.port, 'secure.test', certPath, '/tls');
    const seen = JSON.parse(body);
    assert.equal(seen.upstream, 'behind-tls');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('forwards to an https upstream whose private CA is trusted through NODE_EXTRA_CA_CERTS, and answers 502 without it', async () => {
    const tlsUpstream = createHttpsServer({ cert: await readFile(certPath), key: await readFile(keyPath) }, (req, res) => res.end(`tls upstream saw ${req.headers['x-forwarded-proto']}`));
    await new Promise<void>((resolve) => tlsUpstream.listen(0, '127.0.0.1', resolve));
    const origin = `https://127.0.0.1:${(tlsUpstream.address() as AddressInfo).port}`;
    try {
      const config = (socketDir: string) => `admin_socket_path = "${join(socketDir, 'admin.sock')}"\nworkers = 1\n[[listeners]]\naddress = "127.0.0.1"\nport = 0\n[[sites]]\nhost = "tls-up.test"\nupstream = "${origin}"\n`;
      const trusting = await startProxy({ raw: true, config: config(await mkdtemp(join(dir, 's-'))), env: { NODE_EXTRA_CA_CERTS: certPath } });
      const plain = await startProxy({ raw: true, config: config(await mkdtemp(join(dir, 's-'))) });
      try {
        const reply = await get(trusting.port, 'tls-up.test');
        assert.deepEqual({ status: reply.status, body: reply.body }, { status: 200, body: 'tls upstream saw http' });
        assert.equal((await get(plain.port, 'tls-up.test')).status, 502);
      } finally {
        await Promise.all([trusting.stop(), plain.stop()]);
      }
    } finally {
      tlsUpstream.closeAllConnections();
      await new Promise((resolve) => tlsUpstream.close(resolve));
    }
  });

  it('names the file at fault and what is wrong with it, for each way a cert/key pair goes bad', async () => {
    const other = makeCertificate(dir, 'other.test', 'other');
    const garbage = join(dir, 'garbage.pem');
    await writeFile(garbage, 'garbage\n');
    const encrypted = join(dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', keyPath, '-out', encrypted, '-aes256', '-passout', 'pass:secret']);
    const cases: [cert: string, key: string, on: 'cert' | 'key', message: string][] = [
      [garbage, keyPath, 'cert', `${garbage} is not a PEM certificate (no valid "-----BEGIN CERTIFICATE-----" block)`],
      [keyPath, keyPath, 'cert', `${keyPath} is not a PEM certificate (no valid "-----BEGIN CERTIFICATE-----" block)`],
      [certPath, garbage, 'key', `${garbage} is not a PEM private key`],
      [certPath, encrypted, 'key', `${encrypted} is encrypted; give the proxy an unencrypted key`],
      [certPath, other.key, 'key', `${other.key} does not match the certificate in ${certPath}`],
    ];
    const check = async (cert: string, key: string) => checkCertificate({ certFile: cert, keyFile: key, cert: await readFile(cert), key: await readFile(key), isDefault: true });
    for (const [cert, key, on, message] of cases) assert.deepEqual(await check(cert, key), { ok: false, on, message });
    assert.equal((await check(certPath, keyPath)).ok, true, 'the good pair loads');
  });


  it('refuses to start with a clear message when the certificate file is missing', async () => {
    const missing = join(dir, 'missing.pem');
    const configPath = join(dir, 'broken.toml');
    await writeFile(configPath, tlsConfig(missing, keyPath, upstream.url));
    const result = await runCli(['serve', '--config', configPath]);
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /broken\.toml:8: listeners\[0\]\.tls_cert: cannot read .*missing\.pem: no such file/);
  });
});
