// Loads a config file and everything it references: the file is read only once it is stable
// (stable-read.ts), parsed and validated, then the certificate, key and CA files it names are
// read and checked. Start-up, reload and `check` all load through loadConfigFile.
import { ConfigInvalidError } from '../errors.ts';
import type { LoadedCertificate } from './certificates.ts';
import { combinedSha256, sha256Hex } from './referenced-files.ts';
import type { Config } from './schema.ts';
import type { CachedParse, SiteCache, SiteReuse } from './site-cache.ts';
import { readStable } from './stable-read.ts';
import { loadTlsMaterial } from './tls-material.ts';
import { validPartsOfSource } from './partial.ts';
import { parseConfig } from './validate.ts';

export { sha256Hex } from './referenced-files.ts';
export { CONFIG_QUIET_MS, MAX_CONFIG_BYTES, readStable, STABLE_READ_ATTEMPTS, STABLE_READ_RETRY_MS } from './stable-read.ts';

export interface LoadedConfig {
  file: string;
  config: Config;
  /**
   * Hex SHA-256 of the config and every file it references (combinedSha256): what the reloader
   * compares with the mounted files. Just the file's SHA-256 when it references none.
   */
  sha256: string;
  certificates: LoadedCertificate[];
  /** PEM text of each upstream `tls_ca_file`, keyed by the path as written. */
  caFiles: Record<string, string>;
  /** Legal but probably wrong, each as `file:line: key: message`. */
  warnings: string[];
  /** Content key of each site's block, in `config.sites` order, when loaded through a SiteCache that could cut the file. */
  siteKeys?: string[];
  /** How many sites the SiteCache parsed and how many it had already; absent when the file was parsed whole. */
  siteReuse?: SiteReuse;
}

export function decodeConfigText(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigInvalidError(file, [{ key: '', message: 'is not valid UTF-8 text' }]);
  }
}

/**
 * Reads, parses and validates `file` and the files it references. Throws a ReverseProxyError
 * subclass on any failure. With `cache`, sites whose text the last successful load through it
 * already validated are not validated again (site-cache.ts); the result is the same.
 */
export async function loadConfigFile(file: string, cache?: SiteCache): Promise<LoadedConfig> {
  const bytes = await readStable(file);
  const source = decodeConfigText(bytes, file);
  let parsed: CachedParse;
  try {
    parsed = cache === undefined ? { config: parseConfig(source, file), siteKeys: undefined, reuse: undefined, commit: () => undefined } : cache.parse(source, file);
  } catch (err) {
    throw await withReferencedFileProblems(err, file, source);
  }
  const { config } = parsed;
  const tls = await loadTlsMaterial(file, source, config);
  parsed.commit();
  const loaded: LoadedConfig = { file, config, sha256: combinedSha256(bytes, tls.files), certificates: tls.certificates, caFiles: tls.caFiles, warnings: tls.warnings };
  if (parsed.siteKeys !== undefined) loaded.siteKeys = parsed.siteKeys;
  if (parsed.reuse !== undefined) loaded.siteReuse = parsed.reuse;
  return loaded;
}

/**
 * A file with field errors may name certificate or CA files that are broken too: report those in
 * the same pass (as nginx -t does), read from the parts of the config that are valid, sorted in
 * with the others by line.
 */
async function withReferencedFileProblems(err: unknown, file: string, source: string): Promise<unknown> {
  if (!(err instanceof ConfigInvalidError)) return err;
  const partial = validPartsOfSource(source);
  if (partial === undefined) return err;
  try {
    await loadTlsMaterial(file, source, partial);
  } catch (fileErr) {
    if (fileErr instanceof ConfigInvalidError) return new ConfigInvalidError(file, [...err.problems, ...fileErr.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
    // A check written for a whole config that meets a hole in a partial one: the field errors stand alone.
    if (!(fileErr instanceof TypeError)) throw fileErr;
  }
  return err;
}
