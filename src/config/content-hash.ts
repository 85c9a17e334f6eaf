// The content hash of a config as it is on disk, computed the way the proxy computes it when it
// loads the config (combinedSha256), for the reloader to compare with `show info`.
import { dirname } from 'node:path';
import { ConfigInvalidError } from '../errors.ts';
import { decodeConfigText } from './load.ts';
import { combinedSha256, referencedFiles, resolveReferenced, sha256Hex } from './referenced-files.ts';
import { readStable } from './stable-read.ts';
import { readReferencedFiles } from './tls-material.ts';
import { parseConfig } from './validate.ts';

export interface MountedContent {
  sha256: string;
  /** Directories of the files the config references: where a Secret volume swaps `..data`. */
  dirs: string[];
}

/**
 * A config the proxy would refuse hashes as its bytes alone: what matters is that it differs
 * from what runs, and the proxy says why it is refused. A referenced file that cannot be read
 * counts as its read error, so its appearance later is a change too.
 */
export async function mountedContent(configFile: string): Promise<MountedContent> {
  const bytes = await readStable(configFile);
  let config;
  try {
    config = parseConfig(decodeConfigText(bytes, configFile), configFile);
  } catch (err) {
    if (err instanceof ConfigInvalidError) return { sha256: sha256Hex(bytes), dirs: [] };
    throw err;
  }
  const dirs = [...new Set(referencedFiles(config).map((f) => dirname(resolveReferenced(configFile, f.path))))];
  const { files, unreadable } = await readReferencedFiles(configFile, config);
  if (unreadable.length > 0) return { sha256: sha256Hex(`${sha256Hex(bytes)}\n${unreadable.map((u) => u.message).join('\n')}`), dirs };
  return { sha256: combinedSha256(bytes, files), dirs };
}
