// Certificates as dynamic config, through the real proxy: SNI picks the certificate by SAN
// name (exact, then a one-label wildcard, else the default), `show certs` lists what is in use,
// a reload swaps certificates for new handshakes, and a broken one is refused by name while the
// old one keeps serving. Certificates come from a private CA made with openssl per run.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCa, handshake, hasOpenssl, httpsGet, issue, OLD_TLS_CLIENT, type KeyPair } from './helpers/tls.ts';
import { get } from './helpers/http-client.ts';
import { METRICS_TABLE, scrape } from './helpers/metrics.ts';
import { sampleValue } from './helpers/prom-text.ts';
import { startProxy, site } from './helpers/proxy-process.ts';
import { echo, startUpstream, type Upstream } from './helpers/upstream.ts';

const certificate = (pair: KeyPair, isDefault = false) => `[[certificates]]\ncert = "${pair.certPath}"\nkey = "${pair.keyPath}"\n${isDefault ? 'default = true\n' : ''}\n`;

describe('certificates', { skip: !hasOpenssl() && 'openssl not installed' }, () => {
  let dir: string;
  let ca: KeyPair;
  let exact: KeyPair;
  let wildcard: KeyPair;
  let fallback: KeyPair;
  let upstream: Upstream;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-certs-'));
    ca = await createCa(dir);
    [exact, wildcard, fallback] = await Promise.all([
      issue(dir, ca, { names: ['app.test'] }),
      issue(dir, ca, { names: ['*.wild.test'], file: 'wild' }),
      issue(dir, ca, { names: ['fallback.test'] }),
    ]);
    upstream = await startUpstream(echo('behind-tls'));
  });
  after(async () => {
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('SNI: exact name, then a one-label wildcard, else the default; TLS 1.2+ with ALPN http/1.1', async (t) => {
    const config = certificate(exact) + certificate(wildcard) + certificate(fallback, true) + site('app.test', upstream.url) + site('*.wild.test', upstream.url);
    const proxy = await startProxy({ t, tls: true, config });
    const served = async (name: string | undefined) => (await handshake(proxy.port, name)).fingerprint256;

    assert.equal(await served('app.test'), exact.fingerprint256);
    assert.equal(await served('APP.test'), exact.fingerprint256, 'SNI is matched without regard to case');
    assert.equal(await served('a.wild.test'), wildcard.fingerprint256);
    assert.equal(await served('a.b.wild.test'), fallback.fingerprint256, 'a wildcard stands for exactly one label');
    assert.equal(await served('wild.test'), fallback.fingerprint256, 'a wildcard needs a label in front');
    assert.equal(await served('unknown.test'), fallback.fingerprint256);
    assert.equal(await served(undefined), fallback.fingerprint256, 'no SNI: the default certificate');

    const negotiated = await handshake(proxy.port, 'app.test');
    assert.equal(negotiated.alpn, 'http/1.1', 'h2 is not offered, http/1.1 is');
    assert.match(negotiated.protocol ?? '', /^TLSv1\.[23]$/);
    // The old client can do TLS 1.1 where a server allows it; the proxy does not.
    const lenient = createTlsServer({ cert: exact.cert, key: exact.key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (socket) => socket.end());
    await new Promise<void>((resolve) => lenient.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => lenient.close(resolve)));
    assert.equal((await handshake((lenient.address() as AddressInfo).port, 'app.test', OLD_TLS_CLIENT)).protocol, 'TLSv1.1');
    await assert.rejects(handshake(proxy.port, 'app.test', OLD_TLS_CLIENT), 'TLS 1.1 is refused: the minimum is 1.2');

    const reply = await httpsGet(proxy.port, 'x.wild.test', ca.certPath, '/through');
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body);
    assert.equal(seen.upstream, 'behind-tls');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
  });

  test('without default = true the first certificate is the default', async (t) => {
    const proxy = await startProxy({ t, tls: true, config: certificate(wildcard) + certificate(exact) + site('app.test', upstream.url) });
    assert.equal((await handshake(proxy.port, 'other.test')).fingerprint256, wildcard.fingerprint256);
    assert.equal((await handshake(proxy.port, 'app.test')).fingerprint256, exact.fingerprint256);
  });

  test('show certs lists subject, names, expiry, fingerprint and file of each certificate in use', async (t) => {
    const proxy = await startProxy({ t, tls: true, config: certificate(exact) + certificate(wildcard, true) + site('app.test', upstream.url) });
    const text = await proxy.admin('show certs');
    const blocks = text.trimEnd().split('\n\n');
    assert.equal(blocks.length, 2);
    assert.match(blocks[0]!, new RegExp(`^Filename: ${exact.certPath}\nKey: ${exact.keyPath}\nDefault: no\nSubject: CN=app\\.test\nNames: app\\.test\nNot_after: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\nSha256_fingerprint: ${exact.fingerprint256}$`));
    assert.match(blocks[1]!, /^Filename: .*wild\.crt\nKey: .*wild\.key\nDefault: yes\nSubject: CN=\*\.wild\.test\nNames: \*\.wild\.test\n/);
    const rows = JSON.parse(await proxy.admin('show certs json')) as { file: string; not_after: string; sha256_fingerprint: string }[];
    assert.deepEqual(rows.map((r) => r.sha256_fingerprint), [exact.fingerprint256, wildcard.fingerprint256]);
    // openssl was asked for 30 days.
    const days = (Date.parse(rows[0]!.not_after) - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, `not_after ${rows[0]!.not_after}`);
  });

  test('reverse_proxy_certificate_expiry_seconds carries each certificate\'s notAfter, by file', async (t) => {
    const proxy = await startProxy({ t, tls: true, config: METRICS_TABLE + certificate(exact) + certificate(wildcard, true) + site('app.test', upstream.url) });
    const families = await scrape(proxy);
    const rows = JSON.parse(await proxy.admin('show certs json')) as { file: string; not_after: string }[];
    assert.equal(families.get('reverse_proxy_certificate_expiry_seconds')?.samples.length, 2);
    for (const row of rows) assert.equal(sampleValue(families, 'reverse_proxy_certificate_expiry_seconds', { file: row.file }), Date.parse(row.not_after) / 1000, row.file);
  });

  test('reload swaps the certificate for new handshakes; a mismatched key is refused by file and the old one keeps serving', async (t) => {
    const proxy = await startProxy({ t, tls: true, config: certificate(exact) + site('app.test', upstream.url) });
    assert.equal((await handshake(proxy.port, 'app.test')).fingerprint256, exact.fingerprint256);
    const before = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };

    const renewed = await issue(dir, ca, { names: ['app.test'], file: 'app-renewed' });
    await proxy.writeConfig(certificate(renewed) + site('app.test', upstream.url));
    assert.deepEqual(JSON.parse(await proxy.admin('reload')), { status: 'ok' });
    const swapped = await handshake(proxy.port, 'app.test');
    assert.equal(swapped.fingerprint256, renewed.fingerprint256);
    assert.equal(swapped.alpn, 'http/1.1', 'the swapped context still offers http/1.1 only');
    assert.equal((await handshake(proxy.port, undefined)).fingerprint256, renewed.fingerprint256, 'without SNI too: the default was swapped');
    await assert.rejects(handshake(proxy.port, 'app.test', OLD_TLS_CLIENT), 'TLS 1.1 is still refused after the swap');
    const afterReload = JSON.parse(await proxy.admin('show info json')) as { config_sha256: string };
    assert.notEqual(afterReload.config_sha256, before.config_sha256);

    await proxy.writeConfig(certificate({ ...renewed, keyPath: exact.keyPath }) + site('app.test', upstream.url));
    const refused = JSON.parse(await proxy.admin('reload')) as { status: string; message: string };
    assert.equal(refused.status, 'error');
    assert.match(refused.message, new RegExp(`config\\.toml:\\d+: certificates\\[0\\]\\.key: ${exact.keyPath} does not match the certificate in ${renewed.certPath}`));
    assert.equal((await handshake(proxy.port, 'app.test')).fingerprint256, renewed.fingerprint256, 'the running certificate keeps serving');
    const reply = await httpsGet(proxy.port, 'app.test', ca.certPath);
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(await proxy.admin('show info json')).config_sha256, afterReload.config_sha256);
  });

  test('the listener shorthand tls_cert/tls_key becomes a certificate entry that a reload re-reads', async (t) => {
    const files = await mkdtemp(join(dir, 'shorthand-'));
    const certPath = join(files, 'tls.crt');
    const keyPath = join(files, 'tls.key');
    await Promise.all([copyFile(exact.certPath, certPath), copyFile(exact.keyPath, keyPath)]);
    const listener = `[[listeners]]\naddress = "127.0.0.1"\nport = 0\ntls_cert = "${certPath}"\ntls_key = "${keyPath}"\n\n`;
    const proxy = await startProxy({ t, raw: true, config: `admin_socket_path = ""\n${listener}${site('app.test', upstream.url)}` });
    assert.equal((await handshake(proxy.port, 'anything.test')).fingerprint256, exact.fingerprint256, 'the only certificate is the default');

    await Promise.all([copyFile(fallback.certPath, certPath), copyFile(fallback.keyPath, keyPath)]);
    proxy.signal('SIGHUP');
    const reload = await proxy.waitForLog((l) => l.event === 'reload');
    assert.equal(reload.result, 'ok');
    const warnings = reload.warnings as string[];
    assert.ok(!warnings.some((w) => w.includes('restart')), 'same listener settings: no restart needed');
    assert.ok(warnings.some((w) => w.includes('"app.test" is served on a TLS listener but no certificate covers it')), 'the new certificate does not cover the site');
    assert.equal((await handshake(proxy.port, 'anything.test')).fingerprint256, fallback.fingerprint256);
  });

  test('upstream TLS: a private CA through tls_ca_file, a fixed tls_servername, tls_verify = false', async (t) => {
    // Signed for a name only: reached by IP, it verifies only when tls_servername says that name.
    const upstreamCert = await issue(dir, ca, { names: ['upstream.test'], file: 'upstream' });
    const server = createHttpsServer({ cert: upstreamCert.cert, key: upstreamCert.key }, (req, res) => res.end(`tls upstream for ${req.headers.host}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const upstreamSite = (host: string, extra: string) => `[[sites]]\nhost = "${host}"\nupstream = "${origin}"\n${extra}\n`;
    const proxy = await startProxy({
      t,
      config:
        upstreamSite('private-ca.test', `tls_ca_file = "${ca.certPath}"\ntls_servername = "upstream.test"`) +
        upstreamSite('no-ca.test', 'tls_servername = "upstream.test"') +
        upstreamSite('wrong-name.test', `tls_ca_file = "${ca.certPath}"`) +
        upstreamSite('unverified.test', 'tls_verify = false'),
    });
    const answer = async (host: string) => {
      const reply = await get(proxy.port, host);
      return reply.status === 200 ? reply.body : reply.status;
    };
    assert.equal(await answer('private-ca.test'), 'tls upstream for private-ca.test');
    assert.equal(await answer('no-ca.test'), 502, 'the system CAs do not know the private CA');
    assert.equal(await answer('wrong-name.test'), 502, 'the certificate is checked against the upstream name 127.0.0.1');
    assert.equal(await answer('unverified.test'), 'tls upstream for unverified.test');
    const warning = proxy.logs.find((l) => l.event === 'config_warning');
    assert.match(String(warning?.message), /sites\[3\]\.tls_verify: is false: the upstream certificate is not checked/);
  });

  test('health checks of an https group reach it the way traffic does: its tls_ca_file and tls_servername', async (t) => {
    const upstreamCert = await issue(dir, ca, { names: ['checked.test'], file: 'checked' });
    const server = createHttpsServer({ cert: upstreamCert.cert, key: upstreamCert.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const check = 'health_check = { path = "/healthz", interval_secs = 0.2, timeout_secs = 1, fall = 1 }';
    const group = (name: string, tls: string) => `[[upstreams]]\nname = "${name}"\nservers = ["${origin}"]\n${tls}${check}\n\n`;
    const proxy = await startProxy({
      t,
      config: group('private', `tls_ca_file = "${ca.certPath}"\ntls_servername = "checked.test"\n`) + group('untrusted', '') + site('app.test', upstream.url),
    });
    // `# group server health admin weight backup active last_check last_check_at`, one row per server.
    const checked = async () => {
      const [header, ...lines] = (await proxy.admin('show servers')).trim().split('\n');
      const columns = header!.replace(/^# /, '').split(' ');
      const rows = lines.map((line) => Object.fromEntries(line.split(' ').map((value, i) => [columns[i], value])));
      return rows.filter((r) => r.group !== 'site:app.test').map((r) => [r.group, r.health, r.last_check]);
    };
    let rows = await checked();
    for (let i = 0; i < 100 && !(rows[0]?.[2] === 'ok:200' && rows[1]?.[1] === 'down'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = await checked();
    }
    assert.deepEqual(rows, [['private', 'up', 'ok:200'], ['untrusted', 'down', 'fail:error']], 'without the private CA the check fails the certificate');
  });
});
