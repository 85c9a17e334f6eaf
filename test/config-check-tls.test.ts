// `reverse-proxy check` opens and verifies every certificate and key the config names, with the
// code reload uses: errors refuse the file (exit 1) and name the key, line, file and reason;
// warnings (close to expiry, a TLS site no certificate covers, an unverified upstream) keep it
// valid (exit 0) and are printed on stderr.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCa, hasOpenssl, issue, type KeyPair } from './helpers/tls.ts';
import { checkConfigText, site } from './helpers/proxy-process.ts';

/** Never dialled: `check` only reads the config. */
const TLS_UPSTREAM = 'https://127.0.0.1:9000';

const LISTENER = '[[listeners]]\naddress = "127.0.0.1"\nport = 8443\ntls = true\n\n';
const certificate = (pair: Pick<KeyPair, 'certPath' | 'keyPath'>) => `[[certificates]]\ncert = "${pair.certPath}"\nkey = "${pair.keyPath}"\n\n`;

describe('check with certificates', { skip: !hasOpenssl() && 'openssl not installed' }, () => {
  let dir: string;
  let valid: KeyPair;
  let other: KeyPair;
  let expired: KeyPair;
  let expiring: KeyPair;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-check-tls-'));
    const ca = await createCa(dir);
    [valid, other, expired, expiring] = await Promise.all([
      issue(dir, ca, { names: ['app.test', '*.apps.test'] }),
      issue(dir, ca, { names: ['other.test'] }),
      issue(dir, ca, { names: ['old.test'], days: -1 }),
      issue(dir, ca, { names: ['soon.test'], days: 5 }),
    ]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const check = (name: string, text: string) => checkConfigText(dir, name, text);

  test('valid certificates covering every site: ok, https listener, no warning', async () => {
    const r = await check('good.toml', LISTENER + certificate(valid) + site('app.test', TLS_UPSTREAM) + site('x.apps.test', TLS_UPSTREAM) + site('*.apps.test', TLS_UPSTREAM));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /good\.toml: ok: 3 sites, 1 listener \(https:\/\/127\.0\.0\.1:8443\)/);
  });

  test('an expired certificate is an error naming the file and the date', async () => {
    const r = await check('expired.toml', LISTENER + certificate(expired) + site('old.test', TLS_UPSTREAM));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`expired\\.toml:7: certificates\\[0\\]\\.cert: ${expired.certPath} expired on \\d{4}-\\d\\d-\\d\\dT`));
    assert.match(r.stderr, /config is invalid\n$/);
  });

  test('a certificate expiring within 14 days is a warning', async () => {
    const r = await check('expiring.toml', LISTENER + certificate(expiring) + site('soon.test', TLS_UPSTREAM));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^warning: .*expiring\\.toml:7: certificates\\[0\\]\\.cert: ${expiring.certPath} expires in [45] days, on `));
  });

  test('a key that does not match its certificate is an error naming both files', async () => {
    const r = await check('mismatch.toml', LISTENER + certificate({ certPath: valid.certPath, keyPath: other.keyPath }) + site('app.test', TLS_UPSTREAM));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`mismatch\\.toml:8: certificates\\[0\\]\\.key: ${other.keyPath} does not match the certificate in ${valid.certPath}`));
  });

  test('a site host no certificate covers on a TLS listener is a warning; one label only for wildcards', async () => {
    const r = await check('uncovered.toml', LISTENER + certificate(valid) + site('app.test', TLS_UPSTREAM) + site('api.test', TLS_UPSTREAM) + site('a.b.apps.test', TLS_UPSTREAM));
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.trimEnd().split('\n');
    assert.equal(warnings.length, 2, r.stderr);
    assert.match(warnings[0]!, /uncovered\.toml:15: sites\[1\]\.host: "api\.test" is served on a TLS listener but no certificate covers it; clients get the default certificate \(.*app\.test\.crt\)/);
    assert.match(warnings[1]!, /sites\[2\]\.host: "a\.b\.apps\.test" is served/);
  });

  test('every broken file is reported in one pass: unreadable, not PEM, and a second default', async () => {
    const garbage = join(dir, 'garbage.pem');
    await writeFile(garbage, 'not a certificate\n');
    const text = LISTENER + certificate({ certPath: join(dir, 'missing.crt'), keyPath: valid.keyPath }) + certificate({ certPath: garbage, keyPath: valid.keyPath }) + certificate(valid) + certificate(other);
    const twoDefaults = text.replace(`cert = "${valid.certPath}"`, `cert = "${valid.certPath}"\ndefault = true`).replace(`cert = "${other.certPath}"`, `cert = "${other.certPath}"\ndefault = true`);
    const r = await check('broken.toml', twoDefaults + site('app.test', TLS_UPSTREAM));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /certificates\[3\]\.default: only one certificate can be the default; certificates\[2\] already is/);
    const fixed = await check('broken2.toml', text + site('app.test', TLS_UPSTREAM));
    assert.equal(fixed.code, 1);
    assert.match(fixed.stderr, /broken2\.toml:7: certificates\[0\]\.cert: cannot read .*missing\.crt: no such file/);
    assert.match(fixed.stderr, /broken2\.toml:11: certificates\[1\]\.cert: .*garbage\.pem is not a PEM certificate/);
  });

  test('tls = true without any certificate is an error', async () => {
    const r = await check('nocert.toml', LISTENER + site('app.test', TLS_UPSTREAM));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nocert\.toml:4: listeners\[0\]\.tls: a TLS listener needs at least one \[\[certificates\]\] entry/);
  });

  test('upstream TLS: tls_verify = false warns; a tls_ca_file without a certificate is an error', async () => {
    const off = await check('noverify.toml', site('app.test', TLS_UPSTREAM, 'tls_verify = false\n'));
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stderr, /^warning: .*noverify\.toml:4: sites\[0\]\.tls_verify: is false: the upstream certificate is not checked/);
    const badCa = await check('badca.toml', site('app.test', TLS_UPSTREAM, `tls_ca_file = "${valid.keyPath}"\n`));
    assert.equal(badCa.code, 1);
    assert.match(badCa.stderr, /badca\.toml:4: sites\[0\]\.tls_ca_file: .*app\.test\.key holds no PEM certificate/);
  });
});
