// The content hash of a config as it is on disk, computed the way the proxy computes it when it
// loads the config (combinedSha256, over the same kind of consistent snapshot), for the
// reloader to compare with `show info`.
import { dirname } from 'node:path';
import { ConfigInvalidError } from '../errors.ts';
import { decodeConfigText } from './load.ts';
import { combinedSha256, referencedFiles, resolveReferenced, sha256Hex, type ReferencedFile } from './referenced-files.ts';
import type { Config } from './schema.ts';
import { readConfigSnapshot } from './snapshot.ts';
import { parseConfig } from './validate.ts';

interface MountedContent {
  sha256: string;
  /** Directories of the files the config references: where a Secret volume swaps `..data`. */
  dirs: string[];
}

/** The valid config the bytes hold, with the files it references; none when the proxy would refuse it. */
function interpret(bytes: Buffer, configFile: string): { parsed: Config | undefined; references: ReferencedFile[] } {
  try {
    const config = parseConfig(decodeConfigText(bytes, configFile), configFile);
    return { parsed: config, references: referencedFiles(config) };
  } catch (err) {
    if (err instanceof ConfigInvalidError) return { parsed: undefined, references: [] };
    throw err;
  }
}

/**
 * A config the proxy would refuse hashes as its bytes alone: what matters is that it differs
 * from what runs, and the proxy says why it is refused. A referenced file that cannot be read
 * counts as its read error, so its appearance later is a change too.
 */
export async function mountedContent(configFile: string): Promise<MountedContent> {
  const { bytes, parsed: config, files, unreadable } = await readConfigSnapshot(configFile, (b) => interpret(b, configFile));
  if (config === undefined) return { sha256: sha256Hex(bytes), dirs: [] };
  const dirs = [...new Set(referencedFiles(config).map((f) => dirname(resolveReferenced(configFile, f.path))))];
  if (unreadable.length > 0) return { sha256: sha256Hex(`${sha256Hex(bytes)}\n${unreadable.map((u) => u.message).join('\n')}`), dirs };
  return { sha256: combinedSha256(bytes, files), dirs };
}
