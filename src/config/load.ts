// Loads a config file and everything it references: the file is read only once it is stable
// (stable-read.ts), parsed and validated, then the certificate, key and CA files it names are
// read and checked. Start-up, reload and `check` all load through loadConfigFile.
import { ConfigInvalidError } from '../errors.ts';
import type { LoadedCertificate } from './certificates.ts';
import { combinedSha256, sha256Hex } from './referenced-files.ts';
import type { Config } from './schema.ts';
import { readStable } from './stable-read.ts';
import { loadTlsMaterial } from './tls-material.ts';
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
}

export function decodeConfigText(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigInvalidError(file, [{ key: '', message: 'is not valid UTF-8 text' }]);
  }
}

/** Reads, parses and validates `file` and the files it references. Throws a ReverseProxyError subclass on any failure. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const bytes = await readStable(file);
  const source = decodeConfigText(bytes, file);
  const config = parseConfig(source, file);
  const tls = await loadTlsMaterial(file, source, config);
  return { file, config, sha256: combinedSha256(bytes, tls.files), certificates: tls.certificates, caFiles: tls.caFiles, warnings: tls.warnings };
}
