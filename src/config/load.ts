// Loads a config file and everything it references: the file and the certificate, key and CA
// files it names are read as one consistent snapshot (snapshot.ts), each only once it is stable
// (stable-read.ts); the config is parsed and validated and the files it names are checked.
// Start-up, reload and `check` all load through loadConfigFile.
import { ConfigInvalidError } from '../errors.ts';
import type { LoadedCertificate } from './certificates.ts';
import { combinedSha256, referencedFiles, type ReferencedFile } from './referenced-files.ts';
import type { Config } from './schema.ts';
import type { CachedParse, SiteCache, SiteReuse } from './site-cache.ts';
import { readConfigSnapshot, type ConfigSnapshot } from './snapshot.ts';
import { loadTlsMaterial } from './tls-material.ts';
import { validPartsOfSource } from './partial.ts';
import { parseConfig } from './validate.ts';

export { sha256Hex } from './referenced-files.ts';
export { CONFIG_QUIET_MS, MAX_CONFIG_BYTES, readStable, SNAPSHOT_READ_ATTEMPTS, STABLE_READ_ATTEMPTS, STABLE_READ_RETRY_MS } from './stable-read.ts';

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

interface ParsedConfig {
  source: string;
  /** The whole config when it is valid. */
  valid?: CachedParse;
  /** Why it is not, and the valid parts whose files are still read and checked. */
  invalid?: { error: ConfigInvalidError; partial: Config | undefined };
}

/**
 * Decodes and validates the config's bytes. A file with field errors may name certificate or CA
 * files that are broken too: those are read from the parts of the config that are valid, to be
 * reported in the same pass (as nginx -t does).
 */
function interpret(bytes: Buffer, file: string, cache: SiteCache | undefined): { parsed: ParsedConfig; references: ReferencedFile[] } {
  const source = decodeConfigText(bytes, file);
  try {
    const valid = cache === undefined ? { config: parseConfig(source, file), siteKeys: undefined, reuse: undefined, commit: () => undefined } : cache.parse(source, file);
    return { parsed: { source, valid }, references: referencedFiles(valid.config) };
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err;
    const partial = validPartsOfSource(source);
    return { parsed: { source, invalid: { error: err, partial } }, references: partial === undefined ? [] : referencedOrNone(partial) };
  }
}

/** A list with a hole (an invalid entry) trips the checks written for a whole config: then no files. */
function referencedOrNone(partial: Config): ReferencedFile[] {
  try {
    return referencedFiles(partial);
  } catch (err) {
    if (err instanceof TypeError) return [];
    throw err;
  }
}

/**
 * Reads, parses and validates `file` and the files it references. Throws a ReverseProxyError
 * subclass on any failure. With `cache`, sites whose text the last successful load through it
 * already validated are not validated again (site-cache.ts); the result is the same.
 */
export async function loadConfigFile(file: string, cache?: SiteCache): Promise<LoadedConfig> {
  const snapshot = await readConfigSnapshot(file, (bytes) => interpret(bytes, file, cache));
  const { source, valid, invalid } = snapshot.parsed;
  if (valid === undefined) throw withReferencedFileProblems(invalid!, file, source, snapshot);
  const { config } = valid;
  const tls = loadTlsMaterial(file, source, config, snapshot);
  valid.commit();
  const loaded: LoadedConfig = { file, config, sha256: combinedSha256(snapshot.bytes, snapshot.files), certificates: tls.certificates, caFiles: tls.caFiles, warnings: tls.warnings };
  if (valid.siteKeys !== undefined) loaded.siteKeys = valid.siteKeys;
  if (valid.reuse !== undefined) loaded.siteReuse = valid.reuse;
  return loaded;
}

/** The field errors with the problems of the files the valid parts name, sorted in by line. */
function withReferencedFileProblems(invalid: NonNullable<ParsedConfig['invalid']>, file: string, source: string, read: ConfigSnapshot<unknown>): ConfigInvalidError {
  const { error, partial } = invalid;
  if (partial === undefined) return error;
  try {
    loadTlsMaterial(file, source, partial, read);
  } catch (fileErr) {
    if (fileErr instanceof ConfigInvalidError) return new ConfigInvalidError(file, [...error.problems, ...fileErr.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
    // A check written for a whole config that meets a hole in a partial one: the field errors stand alone.
    if (!(fileErr instanceof TypeError)) throw fileErr;
  }
  return error;
}
