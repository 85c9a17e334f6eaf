// A listener's certificate and key, read and checked before a server is built from them, so a
// bad file is reported by name and by what is wrong with it: an operator who replaced a cert
// in a Secret must learn which file to fix, not OpenSSL's "no start line".
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { describeErrno, ListenerError } from '../errors.ts';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

const READ_ERRORS: Readonly<Record<string, string>> = { ENOENT: 'no such file', EACCES: 'permission denied', EPERM: 'permission denied', EISDIR: 'is a directory, not a file' };

async function readTlsFile(listener: string, key: 'tls_cert' | 'tls_key', path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ListenerError(listener, `cannot read ${key} ${path}: ${describeErrno(error as NodeJS.ErrnoException, READ_ERRORS)}`, { cause: error });
  }
}

const fails = (check: () => unknown): unknown => {
  try {
    check();
    return undefined;
  } catch (error) {
    return error;
  }
};

/** Which of the two files is at fault, in words; only called once OpenSSL refused the pair. */
function diagnose(certPath: string, keyPath: string, files: TlsFiles, error: NodeJS.ErrnoException): string {
  if (error.code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') return `tls_key ${keyPath} is not the private key of the certificate in tls_cert ${certPath}`;
  if (!files.cert.includes(PEM_CERTIFICATE) || fails(() => new X509Certificate(files.cert)) !== undefined) {
    return `tls_cert ${certPath} is not a PEM certificate (no valid "${PEM_CERTIFICATE}" block)`;
  }
  // PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY" and the legacy "Proc-Type: 4,ENCRYPTED" header.
  if (files.key.includes('ENCRYPTED')) return `tls_key ${keyPath} is encrypted; give the proxy an unencrypted key`;
  if (fails(() => createPrivateKey(files.key)) !== undefined) return `tls_key ${keyPath} is not a PEM private key`;
  return `tls_cert ${certPath} and tls_key ${keyPath} are not a usable certificate and key (${error.message})`;
}

/** Reads both files and checks that they make a TLS context; throws ListenerError naming the bad file. */
export async function loadTlsFiles(listener: string, certPath: string, keyPath: string): Promise<TlsFiles> {
  const files = { cert: await readTlsFile(listener, 'tls_cert', certPath), key: await readTlsFile(listener, 'tls_key', keyPath) };
  try {
    createSecureContext(files);
  } catch (error) {
    throw new ListenerError(listener, diagnose(certPath, keyPath, files, error as NodeJS.ErrnoException), { cause: error });
  }
  return files;
}
