// TLS for tests. Certificates are made at run time with the openssl CLI (node:crypto cannot
// sign X.509): self-signed ones, or a private CA and leaf certificates it signs with the SAN
// names and lifetime a test asks for. From the client's side: which certificate a listener
// serves for a server name, and an HTTPS GET over a new connection (a new handshake each time).
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface CertificateFiles {
  cert: string;
  key: string;
}

/** Writes `<name>.crt` and `<name>.key` in `dir`: a self-signed 30-day certificate (no expiry warning) for `host` and 127.0.0.1. */
export function makeCertificate(dir: string, host: string, name = 'tls'): CertificateFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', files.cert, '-days', '30', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host},IP:127.0.0.1`],
    { stdio: 'ignore' },
  );
  return files;
}

export interface KeyPair {
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
  /** As tls.TLSSocket#getPeerCertificate().fingerprint256 reports it. */
  fingerprint256: string;
}

/** EC P-256 keys: generated in milliseconds, where RSA takes a visible fraction of a second. */
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function pairAt(certPath: string, keyPath: string): Promise<KeyPair> {
  const cert = await readFile(certPath);
  return { certPath, keyPath, cert, key: await readFile(keyPath), fingerprint256: new X509Certificate(cert).fingerprint256 };
}

/** A self-signed CA in `dir` as `<name>.crt` / `<name>.key`. */
export async function createCa(dir: string, name = 'test-ca'): Promise<KeyPair> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', ...KEY_ARGS, '-keyout', keyPath, '-out', certPath, '-days', '30', '-subj', `/CN=${name}`]);
  return pairAt(certPath, keyPath);
}

export interface LeafOptions {
  /** SAN entries: DNS names, or IP addresses. */
  names: string[];
  /** Lifetime in days from now; negative gives a certificate that has already expired. */
  days?: number;
  /** File stem in `dir`; defaults to the first name. */
  file?: string;
}

/** A leaf certificate signed by `ca`, written to `dir` as `<file>.crt` / `<file>.key`. */
export async function issue(dir: string, ca: KeyPair, options: LeafOptions): Promise<KeyPair> {
  const stem = options.file ?? options.names[0]!.replace(/[^a-z0-9.-]/gi, '_');
  const [certPath, keyPath, csrPath, extPath] = ['crt', 'key', 'csr', 'ext'].map((ext) => join(dir, `${stem}.${ext}`)) as [string, string, string, string];
  const san = options.names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await writeFile(extPath, `subjectAltName=${san}\n`);
  await run('openssl', ['req', ...KEY_ARGS, '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${options.names[0]}`]);
  await run('openssl', ['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-days', String(options.days ?? 30), '-out', certPath, '-extfile', extPath]);
  return pairAt(certPath, keyPath);
}

export interface Handshake {
  fingerprint256: string;
  alpn: string | false | null;
  protocol: string | null;
}

/** A client that offers TLS 1.0 and 1.1 only (and would complete them: OpenSSL's security level 0). */
export const OLD_TLS_CLIENT: ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };

/**
 * Completes one handshake sending `servername` as SNI (none when undefined) and reports what
 * the server presented. The chain is not verified: the tests compare fingerprints.
 */
export function handshake(port: number, servername: string | undefined, options: ConnectionOptions = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: servername ?? '', rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'], ...options }, () => {
      const result = { fingerprint256: socket.getPeerCertificate().fingerprint256, alpn: socket.alpnProtocol, protocol: socket.getProtocol() };
      socket.end();
      resolve(result);
    });
    socket.once('error', reject);
  });
}

export interface HttpsReply {
  status: number;
  body: string;
  /** Of the certificate this connection's handshake got. */
  fingerprint256: string;
}

/** One GET over a new TLS connection to 127.0.0.1:`port`, SNI and Host `host`, trusting only `caFile`. */
export async function httpsGet(port: number, host: string, caFile: string, path = '/'): Promise<HttpsReply> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, servername: host, ca, agent: false }, (res) => {
      const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint256 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
