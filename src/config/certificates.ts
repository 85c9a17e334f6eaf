// Turns the bytes of a certificate and its key into what the proxy serves, or says exactly why
// not: each file must parse, the key must match the certificate, and the certificate must not
// have expired. Start-up, reload and `check` all go through here, so they agree.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

/** A certificate expiring within this many days loads with a warning (cert-manager renews at 2/3 of the lifetime, 30 days before the end of a 90-day one). */
const CERT_EXPIRY_WARNING_DAYS = 14;
/** Lowest TLS version any listener accepts. */
export const MIN_TLS_VERSION = 'TLSv1.2';
/** What ALPN offers clients: the proxy speaks HTTP/1.1 only. */
export const ALPN_PROTOCOLS = ['http/1.1'];

const DAY_MS = 86_400_000;
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/** One certificate as the workers need it and `show certs` shows it. Plain data: it crosses IPC. */
export interface LoadedCertificate {
  /** PEM: the certificate, then any intermediates, exactly as read. */
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  isDefault: boolean;
  /** The subject's attributes joined as `CN=example.com, O=Example`. */
  subject: string;
  /** DNS names from subjectAltName (the CN only when there is none): what SNI is matched against. */
  names: string[];
  /** ISO-8601. */
  notAfter: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as openssl and node print it). */
  fingerprint256: string;
}

type CertificateCheck =
  | { ok: true; certificate: LoadedCertificate; warning?: string }
  | { ok: false; on: 'cert' | 'key'; message: string };

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  isDefault: boolean;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** DNS names a client can reach this certificate by. */
function namesOf(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  const dns = (san ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
  if (dns.length > 0 || san !== undefined) return dns;
  const cn = /^CN=(.*)$/m.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

export function checkCertificate(files: CertificateFiles, now: number = Date.now()): CertificateCheck {
  const { certFile, keyFile } = files;
  let x509: X509Certificate;
  try {
    if (!files.cert.includes(PEM_CERTIFICATE)) throw new Error('no PEM block');
    x509 = new X509Certificate(files.cert);
  } catch {
    return { ok: false, on: 'cert', message: `${certFile} is not a PEM certificate (no valid "${PEM_CERTIFICATE}" block)` };
  }
  // PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY" and the legacy "Proc-Type: 4,ENCRYPTED" header.
  if (files.key.includes('ENCRYPTED')) return { ok: false, on: 'key', message: `${keyFile} is encrypted; give the proxy an unencrypted key` };
  let key;
  try {
    key = createPrivateKey(files.key);
  } catch {
    return { ok: false, on: 'key', message: `${keyFile} is not a PEM private key` };
  }
  if (!x509.checkPrivateKey(key)) return { ok: false, on: 'key', message: `${keyFile} does not match the certificate in ${certFile}` };
  const notAfter = x509.validToDate;
  if (notAfter.getTime() <= now) return { ok: false, on: 'cert', message: `${certFile} expired on ${notAfter.toISOString()}` };
  const certificate: LoadedCertificate = {
    cert: files.cert.toString('utf8'),
    key: files.key.toString('utf8'),
    certFile,
    keyFile,
    isDefault: files.isDefault,
    subject: x509.subject.split('\n').join(', '),
    names: namesOf(x509),
    notAfter: notAfter.toISOString(),
    fingerprint256: x509.fingerprint256,
  };
  try {
    // What the workers will do with it; anything OpenSSL refuses is refused here, by name.
    createSecureContext({ cert: certificate.cert, key: certificate.key, minVersion: MIN_TLS_VERSION });
  } catch (err) {
    return { ok: false, on: 'cert', message: `${certFile} with ${keyFile} cannot be used for TLS (${firstLine(err)})` };
  }
  const daysLeft = Math.floor((notAfter.getTime() - now) / DAY_MS);
  if (daysLeft < CERT_EXPIRY_WARNING_DAYS) {
    return { ok: true, certificate, warning: `${certFile} expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}, on ${certificate.notAfter}` };
  }
  return { ok: true, certificate };
}

/** Whether a certificate name covers a host: exactly, or a `*.` wildcard standing for one label. */
function nameCovers(name: string, host: string): boolean {
  if (name === host) return true;
  if (!name.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

/** Whether some certificate is valid for every name a site host pattern stands for. */
export function hostCovered(certificates: readonly LoadedCertificate[], pattern: string): boolean {
  // A wildcard site also serves deeper names no one-label wildcard can cover; the same
  // wildcard (or a listed name for each host) is what an operator means.
  return certificates.some((c) => c.names.some((name) => (pattern.startsWith('*.') ? name === pattern : nameCovers(name, pattern))));
}
