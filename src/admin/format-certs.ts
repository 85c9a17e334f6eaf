// `show certs`: one block of `Key: value` lines per certificate (as HAProxy's `show ssl cert`
// prints one), blocks separated by an empty line, and the same rows as JSON.
import type { CertificateRow } from './backend.ts';

export function formatCertificates(rows: readonly CertificateRow[]): string {
  if (rows.length === 0) return '# no certificates\n';
  return rows
    .map(
      (c) =>
        `Filename: ${c.certFile}\n` +
        `Key: ${c.keyFile}\n` +
        `Default: ${c.isDefault ? 'yes' : 'no'}\n` +
        `Subject: ${c.subject}\n` +
        `Names: ${c.names.join(', ')}\n` +
        `Not_after: ${c.notAfter}\n` +
        `Sha256_fingerprint: ${c.fingerprint256}\n`,
    )
    .join('\n');
}

export function formatCertificatesJson(rows: readonly CertificateRow[]): string {
  const out = rows.map((c) => ({ file: c.certFile, key_file: c.keyFile, default: c.isDefault, subject: c.subject, names: c.names, not_after: c.notAfter, sha256_fingerprint: c.fingerprint256 }));
  return `${JSON.stringify(out)}\n`;
}
