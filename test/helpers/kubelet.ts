// A faithful emulation of how kubelet lays out and updates a ConfigMap volume (the
// AtomicWriter in pkg/volume/util/atomic_writer.go), so reloader tests see exactly the
// filesystem events a pod sees:
//
//   <dir>/..2026_11_25_04_30_00.123456789/config.toml   the payload, in a timestamped dir
//   <dir>/..data -> ..2026_11_25_04_30_00.123456789     the current payload
//   <dir>/config.toml -> ..data/config.toml              what containers open
//
// An update writes a new timestamped dir, points `..data_tmp` at it, renames `..data_tmp`
// over `..data` (one atomic rename(2)), fixes the visible symlinks, then removes the old dir.
import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readlink, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DATA = '..data';
const DATA_TMP = '..data_tmp';

export interface ConfigMapVolume {
  /** The mount point a container sees (what `--watch` points at). */
  dir: string;
  /** Replaces the whole payload the way kubelet does after `kubectl apply`. */
  swap(files: Record<string, string | Buffer>): Promise<void>;
  /** Removes the volume directory. */
  remove(): Promise<void>;
}

let sequence = 0;

/** `..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN`, unique even for swaps within one millisecond. */
function timestampedName(now = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const date = `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  const nanos = now.getUTCMilliseconds() * 1_000_000 + (sequence++ % 1_000_000);
  return `..${date}_${time}.${pad(nanos, 9)}`;
}

async function currentTarget(dir: string): Promise<string | undefined> {
  try {
    return await readlink(join(dir, DATA));
  } catch {
    return undefined;
  }
}

/**
 * Points `..data` at `payloadDir` as kubelet does: a `..data_tmp` symlink renamed over it in one
 * rename(2), so `..data` is never missing. Synchronous, so a test knows exactly where between its
 * own awaits the swap happened.
 */
export function swapDataLink(dir: string, payloadDir: string): void {
  rmSync(join(dir, DATA_TMP), { force: true });
  symlinkSync(payloadDir, join(dir, DATA_TMP));
  renameSync(join(dir, DATA_TMP), join(dir, DATA));
}

async function writePayload(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  const payloadDir = timestampedName();
  await mkdir(join(dir, payloadDir));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, payloadDir, name), content);

  const previous = await currentTarget(dir);
  const previousNames = previous ? await readdir(join(dir, previous)) : [];
  swapDataLink(dir, payloadDir);

  for (const name of Object.keys(files)) {
    const visible = join(dir, name);
    const existing = await lstat(visible).catch(() => undefined);
    if (existing?.isSymbolicLink()) continue;
    // Only when adopting a dir that held a plain file: a real volume starts empty.
    if (existing) await rm(visible);
    await symlink(join(DATA, name), visible);
  }
  // kubelet removes the visible links of keys that left the ConfigMap, and nothing else.
  for (const name of previousNames) if (!(name in files)) await rm(join(dir, name), { force: true });
  if (previous && previous !== payloadDir) await rm(join(dir, previous), { recursive: true, force: true });
}

function volumeAt(dir: string): ConfigMapVolume {
  return {
    dir,
    swap: (next) => writePayload(dir, next),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Creates a ConfigMap-style volume in a fresh temp dir (or in `parent`) holding `files`. */
export async function createConfigMapVolume(files: Record<string, string | Buffer>, parent = tmpdir()): Promise<ConfigMapVolume> {
  const dir = await mkdtemp(join(parent, 'configmap-'));
  await writePayload(dir, files);
  return volumeAt(dir);
}

/**
 * Turns an existing directory into a ConfigMap-style volume holding `files`: plain files of
 * those names become kubelet's symlinks, other entries (an admin socket, say) are left alone.
 * Lets a test point the reloader at the config a running proxy already reads.
 */
export async function adoptAsConfigMapVolume(dir: string, files: Record<string, string | Buffer>): Promise<ConfigMapVolume> {
  await writePayload(dir, files);
  return volumeAt(dir);
}

export interface PreparedVolume {
  dir: string;
  /** Points `..data` at payload `index` (a kubelet swap); returns at once, the swap done. */
  flipTo(index: number): void;
}

/**
 * A Secret-style volume whose payloads are all written up front, each in its own timestamped
 * dir, with `..data` on the first. kubelet writes a fresh dir per update; flipping between
 * prepared ones is the same swap without fresh files (which a reader rightly waits out as maybe
 * half-written), so a test can swap every few milliseconds.
 */
export async function createPreparedVolume(payloads: Record<string, string | Buffer>[], parent = tmpdir()): Promise<PreparedVolume> {
  const dir = await mkdtemp(join(parent, 'secret-'));
  const payloadDirs: string[] = [];
  for (const files of payloads) {
    const payloadDir = timestampedName();
    await mkdir(join(dir, payloadDir));
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, payloadDir, name), content);
    payloadDirs.push(payloadDir);
  }
  swapDataLink(dir, payloadDirs[0]!);
  for (const name of Object.keys(payloads[0]!)) await symlink(join(DATA, name), join(dir, name));
  return { dir, flipTo: (index) => swapDataLink(dir, payloadDirs[index]!) };
}
