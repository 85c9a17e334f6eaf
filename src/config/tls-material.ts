// Checks the TLS files a config references, as one snapshot read them (snapshot.ts), reporting
// all problems of the file in one ConfigInvalidError (each at the key that names the file), and
// what is legal but probably wrong as warnings: a certificate close to expiry, a TLS site no
// certificate covers, an upstream whose certificate is not verified.
import { ConfigInvalidError, formatProblem, type ConfigProblem } from '../errors.ts';
import { checkCertificate, hostCovered, type LoadedCertificate } from './certificates.ts';
import { formatKeyPath, indexLines, lineOf, type KeyPath } from './locate.ts';
import { resolveReferenced } from './referenced-files.ts';
import type { Config } from './schema.ts';
import type { ConfigSnapshot } from './snapshot.ts';

interface TlsMaterial {
  certificates: LoadedCertificate[];
  /** PEM text of each `tls_ca_file`, keyed by the path as written. */
  caFiles: Record<string, string>;
  warnings: string[];
}

/** Checks the referenced files of `config` as one snapshot read them (snapshot.ts). */
export function loadTlsMaterial(configFile: string, source: string, config: Config, read: Pick<ConfigSnapshot<unknown>, 'files' | 'unreadable'>, now: number = Date.now()): TlsMaterial {
  const { files, unreadable } = read;
  const problems: { path: KeyPath; message: string }[] = unreadable.map((u) => ({ path: u.origin, message: u.message }));
  const warnings: { path: KeyPath; message: string }[] = [];
  const bytesOf = new Map(files.map((f) => [f.path, f.bytes]));

  const certificates: LoadedCertificate[] = [];
  for (const entry of config.certificates) {
    const cert = bytesOf.get(entry.cert);
    const key = bytesOf.get(entry.key);
    if (cert === undefined || key === undefined) continue;
    const certFile = resolveReferenced(configFile, entry.cert);
    const result = checkCertificate({ certFile, keyFile: resolveReferenced(configFile, entry.key), cert, key, isDefault: entry.default }, now);
    if (!result.ok) {
      problems.push({ path: result.on === 'cert' ? entry.origin.cert : entry.origin.key, message: result.message });
      continue;
    }
    certificates.push(result.certificate);
    if (result.warning !== undefined) warnings.push({ path: entry.origin.cert, message: result.warning });
  }

  const caFiles: Record<string, string> = {};
  const upstreamTls = (entry: { tls_ca_file?: string | undefined; tls_verify: boolean }, at: KeyPath) => {
    const ca = entry.tls_ca_file === undefined ? undefined : bytesOf.get(entry.tls_ca_file);
    if (entry.tls_ca_file !== undefined && ca !== undefined) {
      if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
        problems.push({ path: [...at, 'tls_ca_file'], message: `${resolveReferenced(configFile, entry.tls_ca_file)} holds no PEM certificate` });
      } else {
        caFiles[entry.tls_ca_file] = ca.toString('utf8');
      }
    }
    if (!entry.tls_verify) {
      warnings.push({ path: [...at, 'tls_verify'], message: 'is false: the upstream certificate is not checked, so anyone between the proxy and the upstream can impersonate it' });
    }
  };
  config.sites.forEach((site, i) => upstreamTls(site, ['sites', i]));
  config.upstreams.forEach((group, i) => upstreamTls(group, ['upstreams', i]));

  if (problems.length === 0 && config.listeners.some((l) => l.tls)) {
    const fallback = certificates.find((c) => c.isDefault);
    config.sites.forEach((site, i) => {
      for (const host of site.host ?? []) {
        if (hostCovered(certificates, host)) continue;
        warnings.push({ path: ['sites', i, 'host'], message: `"${host}" is served on a TLS listener but no certificate covers it; clients get the default certificate${fallback ? ` (${fallback.certFile})` : ''} and a name mismatch` });
      }
    });
  }

  // Indexing every line of a large config costs more than the rest of this function: only
  // done when a problem or warning needs a line.
  let index: Map<string, number> | undefined;
  const locate = (p: { path: KeyPath; message: string }): ConfigProblem => {
    index ??= indexLines(source);
    const line = lineOf(index, p.path);
    return line === undefined ? { key: formatKeyPath(p.path), message: p.message } : { key: formatKeyPath(p.path), line, message: p.message };
  };
  if (problems.length > 0) throw new ConfigInvalidError(configFile, problems.map(locate));
  return { certificates, caFiles, warnings: warnings.map((w) => formatProblem(configFile, locate(w))) };
}
