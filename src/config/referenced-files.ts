// The files a config names besides itself (certificates, keys, CA bundles) and the one hash
// that covers the config and all of them. The proxy reports this hash as its config SHA-256 and
// the reloader computes it from the mounted files the same way, so a renewed certificate is a
// change to reload and the reloader can still prove what runs.
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';
import type { KeyPath } from './locate.ts';
import type { Config } from './schema.ts';

export interface ReferencedFile {
  /** As written in the config; relative paths are relative to the config file's directory. */
  path: string;
  /** The key that names it, for messages. */
  origin: KeyPath;
}

/** Every file the config references, each once, in the order the config names them. */
export function referencedFiles(config: Config): ReferencedFile[] {
  const files = new Map<string, ReferencedFile>();
  const add = (path: string | undefined, origin: KeyPath) => {
    if (path !== undefined && !files.has(path)) files.set(path, { path, origin });
  };
  for (const c of config.certificates) {
    add(c.cert, c.origin.cert);
    add(c.key, c.origin.key);
  }
  config.sites.forEach((site, i) => add(site.tls_ca_file, ['sites', i, 'tls_ca_file']));
  config.upstreams.forEach((group, i) => add(group.tls_ca_file, ['upstreams', i, 'tls_ca_file']));
  return [...files.values()];
}

/** Where a referenced path is on disk: relative paths are read next to the config file. */
export function resolveReferenced(configFile: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(configFile), path);
}

export const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * The config's content hash. With no referenced files it is the SHA-256 of the config's bytes
 * (what `sha256sum config.toml` prints); otherwise the SHA-256 of the text
 * `config <sha of config>\n` followed by `<path as written> <sha of file>\n` per file, in
 * referencedFiles order.
 */
export function combinedSha256(configBytes: Buffer, files: readonly { path: string; bytes: Buffer }[]): string {
  const configSha = sha256Hex(configBytes);
  if (files.length === 0) return configSha;
  return sha256Hex(`config ${configSha}\n${files.map((f) => `${f.path} ${sha256Hex(f.bytes)}\n`).join('')}`);
}
