// Self-signed certificates made with openssl for one test run, and an https GET that trusts one.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

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

/** Writes `<name>.crt` and `<name>.key` in `dir`: a 1-day certificate for `host` and 127.0.0.1. */
export function makeCertificate(dir: string, host: string, name = 'tls'): CertificateFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', files.cert, '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host},IP:127.0.0.1`],
    { stdio: 'ignore' },
  );
  return files;
}

/** One GET over a new TLS connection to 127.0.0.1:`port`, trusting only `caFile`. */
export async function httpsGet(port: number, host: string, caFile: string, path = '/'): Promise<{ status: number; body: string }> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, servername: host, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
