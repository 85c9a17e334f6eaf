// Reads the config file and every file it references as one consistent snapshot. Each file is
// read stably on its own (stable-read.ts), but kubelet can swap a Secret's `..data` between two
// files as easily as during one: tls.crt read before the swap and tls.key after look like a key
// that does not match its certificate, the reload fails, and the reloader will not send that
// renewal again. So every file is read twice and the set is taken only when both passes got the
// same bytes; the proxy's load and the reloader's content hash both read through here, so they
// hash the same snapshot.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigFilesUnstableError, ConfigReadError } from '../errors.ts';
import type { KeyPath } from './locate.ts';
import { resolveReferenced, type ReferencedFile } from './referenced-files.ts';
import { readStable, SNAPSHOT_READ_ATTEMPTS, STABLE_READ_RETRY_MS } from './stable-read.ts';

interface ReferencedBytes {
  /** As written in the config. */
  path: string;
  bytes: Buffer;
}

interface UnreadableFile {
  origin: KeyPath;
  message: string;
}

export interface ConfigSnapshot<T> {
  /** The config file's bytes. */
  bytes: Buffer;
  /** What `interpret` made of those bytes. */
  parsed: T;
  /** The bytes of every referenced file that could be read, in the order `interpret` listed them. */
  files: ReferencedBytes[];
  /** The referenced files that could not be read, each with the key that names it. */
  unreadable: UnreadableFile[];
}

/** What the config's bytes mean, and which files they reference (none for a config that does not parse). */
type InterpretConfig<T> = (bytes: Buffer) => { parsed: T; references: readonly ReferencedFile[] };

/** One read of a referenced file: its bytes, or why it could not be read (an unreadable file is an outcome too). */
type Outcome = { bytes: Buffer } | { error: string };

/** Referenced files read at once: enough to keep libuv's file threads busy with a hundred certificates, few descriptors. */
export const SNAPSHOT_READ_CONCURRENCY = 8;

async function readOne(configFile: string, ref: ReferencedFile): Promise<Outcome> {
  const onDisk = resolveReferenced(configFile, ref.path);
  try {
    return { bytes: await readStable(onDisk) };
  } catch (err) {
    return { error: `cannot read ${err instanceof ConfigReadError ? err.message : `${onDisk}: ${(err as Error).message}`}` };
  }
}

/** One pass over the referenced files, in their order; a pass takes a fraction of the time when they are read a few at once. */
async function readReferenced(configFile: string, references: readonly ReferencedFile[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(references.length);
  let next = 0;
  const reader = async () => {
    while (next < references.length) {
      const i = next++;
      outcomes[i] = await readOne(configFile, references[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SNAPSHOT_READ_CONCURRENCY, references.length) }, reader));
  return outcomes;
}

const sameOutcome = (a: Outcome, b: Outcome) => ('bytes' in a && 'bytes' in b ? a.bytes.equals(b.bytes) : 'error' in a && 'error' in b && a.error === b.error);

/**
 * The config and its referenced files as they were at one moment: read all, read all again, and
 * accept only byte-identical passes. A difference (a swap landed in between) means another
 * attempt after a pause; after SNAPSHOT_READ_ATTEMPTS it fails with ConfigFilesUnstableError
 * naming what kept changing. A config file that cannot be read at all throws as readStable does.
 */
export async function readConfigSnapshot<T>(configFile: string, interpret: InterpretConfig<T>): Promise<ConfigSnapshot<T>> {
  let changed: string[] = [];
  for (let attempt = 1; attempt <= SNAPSHOT_READ_ATTEMPTS; attempt++) {
    if (attempt > 1) await sleep(STABLE_READ_RETRY_MS);
    const bytes = await readStable(configFile);
    const { parsed, references } = interpret(bytes);
    const first = await readReferenced(configFile, references);
    const configAgain = await readStable(configFile);
    // A changed config may name other files: the second pass would compare the wrong ones.
    if (!configAgain.equals(bytes)) {
      changed = [configFile];
      continue;
    }
    const second = await readReferenced(configFile, references);
    changed = references.filter((_, i) => !sameOutcome(first[i]!, second[i]!)).map((ref) => resolveReferenced(configFile, ref.path));
    if (changed.length > 0) continue;
    const files: ReferencedBytes[] = [];
    const unreadable: UnreadableFile[] = [];
    references.forEach((ref, i) => {
      const outcome = first[i]!;
      if ('bytes' in outcome) files.push({ path: ref.path, bytes: outcome.bytes });
      else unreadable.push({ origin: ref.origin, message: outcome.error });
    });
    return { bytes, parsed, files, unreadable };
  }
  throw new ConfigFilesUnstableError(configFile, changed, SNAPSHOT_READ_ATTEMPTS);
}
