// Reads a file so that a half-written or mid-swap file is never taken: the bytes are accepted
// only if the file (through any kubelet symlinks) had been quiet for a moment and was the same
// before and after the read. The config file and every file it references are read this way.
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigReadError, ConfigUnstableError } from '../errors.ts';

/** Attempts at a stable read before giving up with ConfigUnstableError. */
export const STABLE_READ_ATTEMPTS = 5;
/** Pause between attempts, long enough for a writer to finish a small file. */
export const STABLE_READ_RETRY_MS = 50;
/**
 * Attempts at a consistent snapshot of the config and the files it references (snapshot.ts):
 * each attempt reads them all twice and is taken only when both passes got the same bytes; the
 * attempts are STABLE_READ_RETRY_MS apart, then the load fails with ConfigFilesUnstableError.
 */
export const SNAPSHOT_READ_ATTEMPTS = 5;
/**
 * A file modified more recently than this may still be being written in place (a truncated,
 * empty file is valid TOML): it is read only once it has been quiet this long. Longer than the
 * kernel's coarse timestamp tick, short enough not to slow a reload noticeably.
 */
export const CONFIG_QUIET_MS = 25;
/** An mtime this far in the future is clock skew, not a write in progress. */
const FUTURE_MTIME_TOLERANCE_MS = 1_000;
/** A config larger than this is refused rather than read into memory. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

const sameFile = (a: FileIdentity, b: FileIdentity) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

function describeReadError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a regular file';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return `cannot be read (${err.code ?? 'unknown error'})`;
  }
}

/** What a path that is not a regular file is, in the words of `ls -l` and find(1). */
function kindOf(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function notRegular(file: string, kind: string): ConfigReadError {
  return new ConfigReadError(file, `is ${kind}, not a regular file`);
}

/**
 * Opening never blocks: O_NONBLOCK makes a FIFO without a writer open at once (a plain open
 * waits for one forever, holding a libuv thread and every reload queued behind it), and a
 * terminal is never made our controlling one. The descriptor's own type is checked before a
 * byte is read, and no more than the size it had is read, so /dev/zero or a growing file cannot
 * fill memory.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The bytes if the file held still while it was read, else how long to wait before trying again. */
async function readOnce(file: string): Promise<Buffer | number> {
  let handle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    // A socket cannot be opened at all (ENXIO); say what it is rather than why open failed.
    const kind = await lstat(file).then((stats) => (stats.isSocket() ? kindOf(stats) : undefined), () => undefined);
    throw kind ? notRegular(file, kind) : err;
  }
  try {
    const before = await handle.stat();
    const kind = kindOf(before);
    if (kind) throw notRegular(file, kind);
    if (before.size > MAX_CONFIG_BYTES) throw new ConfigReadError(file, `is ${before.size} bytes; the limit is ${MAX_CONFIG_BYTES}`);
    const age = Date.now() - before.mtimeMs;
    if (age < CONFIG_QUIET_MS && age > -FUTURE_MTIME_TOLERANCE_MS) return CONFIG_QUIET_MS - Math.max(0, age);
    // One byte more than the size: reading it means the file grew during the read.
    const buffer = Buffer.alloc(before.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const after = await stat(file);
    return sameFile(before, after) && length === before.size ? buffer.subarray(0, length) : STABLE_READ_RETRY_MS;
  } finally {
    await handle.close();
  }
}

/** The file's bytes, read only once they are stable. */
export async function readStable(file: string): Promise<Buffer> {
  for (let attempt = 1; attempt <= STABLE_READ_ATTEMPTS; attempt++) {
    let outcome: Buffer | number = STABLE_READ_RETRY_MS;
    try {
      outcome = await readOnce(file);
    } catch (err) {
      if (err instanceof ConfigReadError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // A kubelet swap can remove the old target between open and stat: that is instability.
      if (code !== 'ENOENT' || attempt === 1) throw new ConfigReadError(file, describeReadError(err as NodeJS.ErrnoException), { cause: err });
    }
    if (typeof outcome !== 'number') return outcome;
    await sleep(outcome);
  }
  throw new ConfigUnstableError(file);
}
