// The certificate store on its own: which secure context a ClientHello's server name gets,
// checked by a real handshake against a tls.Server whose SNICallback is the store's lookup.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer } from 'node:tls';
import { checkCertificate, type LoadedCertificate } from '../src/config/certificates.ts';
import { CertificateStore } from '../src/proxy/certificates.ts';
import { createCa, handshake, hasOpenssl, issue, type KeyPair } from './helpers/tls.ts';

function loaded(pair: KeyPair, isDefault = false): LoadedCertificate {
  const result = checkCertificate({ certFile: pair.certPath, keyFile: pair.keyPath, cert: pair.cert, key: pair.key, isDefault });
  assert.ok(result.ok);
  return result.certificate;
}

/** The fingerprint a handshake naming `servername` gets from a server serving `store`. */
async function served(store: CertificateStore, servername: string | undefined): Promise<string | undefined> {
  const server = createServer({ ...store.defaultOptions, SNICallback: (name, done) => done(null, store.contextFor(name)) }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return (await handshake((server.address() as AddressInfo).port, servername)).fingerprint256;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('CertificateStore', { skip: !hasOpenssl() && 'openssl not installed' }, () => {
  let dir: string;
  let api: KeyPair;
  let apiAgain: KeyPair;
  let wildcard: KeyPair;
  let deeper: KeyPair;
  let fallback: KeyPair;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-store-'));
    const ca = await createCa(dir);
    [api, apiAgain, wildcard, deeper, fallback] = await Promise.all([
      issue(dir, ca, { names: ['api.example.com'], file: 'api' }),
      issue(dir, ca, { names: ['api.example.com', 'www.example.com'], file: 'api-again' }),
      issue(dir, ca, { names: ['*.example.com'], file: 'wild' }),
      issue(dir, ca, { names: ['*.eu.example.com'], file: 'deeper' }),
      issue(dir, ca, { names: ['fallback.example'], file: 'fallback' }),
    ]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('exact name first, then the one-label wildcard of its parent, else the default', async () => {
    const store = new CertificateStore([loaded(wildcard), loaded(api), loaded(apiAgain), loaded(deeper), loaded(fallback, true)]);
    const cases: [string | undefined, KeyPair][] = [
      ['api.example.com', api], // an exact name beats the wildcard listed before it
      ['API.Example.COM', api],
      ['www.example.com', apiAgain], // a later certificate's other name still counts
      ['shop.example.com', wildcard],
      ['x.eu.example.com', deeper], // the wildcard of the nearest parent
      ['a.b.example.com', fallback], // "*.example.com" covers one label only
      ['example.com', fallback],
      ['unknown.test', fallback],
      [undefined, fallback],
    ];
    for (const [name, expected] of cases) assert.equal(await served(store, name), expected.fingerprint256, String(name));
  });

  test('without a default the first certificate is the fallback; no certificates, no context', async () => {
    const store = new CertificateStore([loaded(api), loaded(wildcard)]);
    assert.equal(await served(store, 'unknown.test'), api.fingerprint256);
    assert.deepEqual(store.defaultOptions?.cert, api.cert.toString('utf8'));
    const empty = new CertificateStore([]);
    assert.equal(empty.contextFor('api.example.com'), undefined);
    assert.equal(empty.defaultOptions, undefined);
  });
});
