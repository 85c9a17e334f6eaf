// Reads every file a valid config references and checks the TLS ones, reporting all problems
// of the file in one ConfigInvalidError (each at the key that names the file), and what is
// legal but probably wrong as warnings: a certificate close to expiry, a TLS site no
// certificate covers, an upstream whose certificate is not verified.
import { ConfigInvalidError, ConfigReadError, formatProblem, type ConfigProblem } from '../errors.ts';
import { checkCertificate, hostCovered, type LoadedCertificate } from './certificates.ts';
import { formatKeyPath, indexLines, lineOf, type KeyPath } from './locate.ts';
import { referencedFiles, resolveReferenced } from './referenced-files.ts';
import type { Config } from './schema.ts';
import { readStable } from './stable-read.ts';

export interface TlsMaterial {
  certificates: LoadedCertificate[];
  /** PEM text of each `tls_ca_file`, keyed by the path as written. */
  caFiles: Record<string, string>;
  /** The bytes of every referenced file, in referencedFiles order (for the content hash). */
  files: { path: string; bytes: Buffer }[];
  warnings: string[];
}

/**
 * The bytes of every file the config references, or the problems of those that cannot be read.
 * The reloader reads the mounted files through here too, so both sides hash the same bytes.
 */
export async function readReferencedFiles(configFile: string, config: Config): Promise<{ files: TlsMaterial['files']; unreadable: { origin: KeyPath; message: string }[] }> {
  const files: TlsMaterial['files'] = [];
  const unreadable: { origin: KeyPath; message: string }[] = [];
  for (const ref of referencedFiles(config)) {
    const onDisk = resolveReferenced(configFile, ref.path);
    try {
      files.push({ path: ref.path, bytes: await readStable(onDisk) });
    } catch (err) {
      const reason = err instanceof ConfigReadError ? err.message : `${onDisk}: ${(err as Error).message}`;
      unreadable.push({ origin: ref.origin, message: `cannot read ${reason}` });
    }
  }
  return { files, unreadable };
}

export async function loadTlsMaterial(configFile: string, source: string, config: Config, now: number = Date.now()): Promise<TlsMaterial> {
  const { files, unreadable } = await readReferencedFiles(configFile, config);
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
  return { certificates, caFiles, files, warnings: warnings.map((w) => formatProblem(configFile, locate(w))) };
}
