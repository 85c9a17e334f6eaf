// Binding a Unix socket without the classic mistakes: never following or deleting anything
// that is not a socket, never stealing a live socket from another process, and never letting
// the socket exist, even for an instant, with looser permissions than asked for.
//
// The socket is bound inside a private (0700) directory created next to the final path,
// chmod-ed there, then hard-linked to the final name. link() fails instead of replacing an
// entry, so two processes racing for the same path cannot overwrite each other's socket.
import { connect, type Server } from 'node:net';
import { chmod, link, lstat, mkdir, mkdtemp, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AdminSocketUnsafeError } from '../errors.ts';
import { MAX_SOCKET_PATH_BYTES, socketPathProblem } from '../config/socket-path.ts';
import { sendCommand } from './client.ts';
import { LIVENESS_PROBE_TIMEOUT_MS } from './limits.ts';
import { checkSocketOwner } from './socket-owner.ts';

/** Mode of a socket directory the proxy creates: others may traverse it; the socket's own mode decides who connects. */
export const SOCKET_DIRECTORY_MODE = 0o755;

/** `<dir>/.rp-XXXXXX/s`: the private directory and name the socket is bound under first. */
const TEMP_DIR_PREFIX = '.rp-';
const TEMP_SUFFIX_BYTES = TEMP_DIR_PREFIX.length + 6 + '/s'.length + 1;

/** Attempts at claiming the path when another process keeps racing us for it. */
const MAX_CLAIM_ATTEMPTS = 3;

type Occupant = 'none' | 'stale' | 'live';

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describeNonSocket(info: Awaited<ReturnType<typeof lstat>>): string {
  if (info.isSymbolicLink()) return 'is a symbolic link; refusing to follow or remove it';
  if (info.isDirectory()) return 'is a directory; refusing to remove it';
  if (info.isFile()) return 'is a regular file; refusing to remove it';
  return 'exists and is not a socket; refusing to remove it';
}

/** Connects once to learn whether someone answers on an existing socket file. */
function probe(path: string): Promise<'live' | 'stale' | 'gone'> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('live'); // Something holds the socket but is slow; it is not ours to take.
    }, LIVENESS_PROBE_TIMEOUT_MS);
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('live');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else if (err.code === 'ENOENT') resolve('gone');
      else if (err.code === 'EAGAIN') resolve('live'); // backlog full: busy, not dead
      else if (err.code === 'EACCES' || err.code === 'EPERM') reject(new AdminSocketUnsafeError(path, 'exists but this process may not connect to it (permission denied); refusing to remove it'));
      else reject(new AdminSocketUnsafeError(path, `exists and cannot be probed (${err.code ?? 'unknown error'}); refusing to remove it`));
    });
  });
}

/** What only our master answers to `show info json` with: its name and its role. */
function isOurMasterReply(reply: string): boolean {
  try {
    const info = JSON.parse(reply) as { name?: unknown; process_type?: unknown };
    return info.name === 'reverse-proxy' && info.process_type === 'master';
  } catch {
    return false;
  }
}

/**
 * A live socket at our path is left alone only when it is another instance of ours: owned by
 * our user (or root), which no other user can fake, and answering our protocol as a master.
 * Anything else is an error naming what holds the path.
 */
async function identifyOccupant(path: string): Promise<void> {
  checkSocketOwner(path, undefined, 'another user holds this path; refusing to use or remove it (choose a directory only the proxy can write to)');
  let reply = '';
  try {
    reply = await sendCommand(path, 'show info json', LIVENESS_PROBE_TIMEOUT_MS);
  } catch {
    // A silent or vanished occupant is judged by the empty reply below.
  }
  if (!isOurMasterReply(reply)) {
    throw new AdminSocketUnsafeError(path, 'is answered by a process that is not a reverse-proxy master (it does not reply to "show info json" as one); refusing to use or remove it');
  }
}

/** What is at `path` now, removing it only when it is a socket nobody listens on. */
async function clearStale(path: string): Promise<Occupant> {
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'none';
    throw new AdminSocketUnsafeError(path, `cannot be inspected (${errnoCode(err) ?? 'unknown error'})`);
  }
  if (!info.isSocket()) throw new AdminSocketUnsafeError(path, describeNonSocket(info));
  const verdict = await probe(path);
  if (verdict === 'live') {
    await identifyOccupant(path);
    return 'live';
  }
  if (verdict === 'stale') {
    await unlink(path).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw new AdminSocketUnsafeError(path, `stale socket cannot be removed (${errnoCode(err) ?? 'unknown error'})`);
    });
  }
  return 'stale';
}

/** Creates the directory if needed and refuses one where anybody could swap our socket. */
async function prepareDirectory(path: string): Promise<string> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: SOCKET_DIRECTORY_MODE }).catch((err: unknown) => {
    throw new AdminSocketUnsafeError(path, `directory ${dir} cannot be created (${errnoCode(err) ?? 'unknown error'})`);
  });
  const info = await stat(dir);
  if (!info.isDirectory()) throw new AdminSocketUnsafeError(path, `${dir} is not a directory`);
  const worldWritable = (info.mode & 0o002) !== 0;
  const sticky = (info.mode & 0o1000) !== 0;
  if (worldWritable && !sticky) throw new AdminSocketUnsafeError(path, `directory ${dir} is writable by every user without the sticky bit, so anyone could replace the socket`);
  return dir;
}

function checkSocketPath(path: string): void {
  const problem = socketPathProblem(path);
  if (problem !== undefined) throw new AdminSocketUnsafeError(path, problem);
  if (Buffer.byteLength(dirname(path)) + TEMP_SUFFIX_BYTES > MAX_SOCKET_PATH_BYTES) {
    throw new AdminSocketUnsafeError(path, `directory name is too long to bind safely (a temporary socket next to it would exceed ${MAX_SOCKET_PATH_BYTES} bytes)`);
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path, backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

type BindOutcome = { kind: 'bound'; inode: number } | { kind: 'in-use' };

/**
 * Makes `server` listen on `path` with `mode`. Resolves 'in-use' (server not listening) when
 * another process answers there; throws AdminSocketUnsafeError when the path is unusable.
 */
export async function bindUnixSocket(server: Server, path: string, mode: number): Promise<BindOutcome> {
  checkSocketPath(path);
  const dir = await prepareDirectory(path);
  if ((await clearStale(path)) === 'live') return { kind: 'in-use' };

  const privateDir = await mkdtemp(join(dir, TEMP_DIR_PREFIX));
  const tempPath = join(privateDir, 's');
  try {
    await listen(server, tempPath);
    await chmod(tempPath, mode);
    for (let attempt = 1; ; attempt++) {
      try {
        await link(tempPath, path);
        break;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST' || attempt >= MAX_CLAIM_ATTEMPTS) {
          throw new AdminSocketUnsafeError(path, `cannot be created (${errnoCode(err) ?? 'unknown error'})`);
        }
      }
      // Someone created the path between our check and our link: look again.
      if ((await clearStale(path)) === 'live') {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        return { kind: 'in-use' };
      }
    }
    return { kind: 'bound', inode: (await lstat(path)).ino };
  } catch (err) {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}

/** Removes the socket file on shutdown, but only if it is still the one we bound. */
export async function unlinkIfOurs(path: string, inode: number): Promise<void> {
  try {
    const info = await lstat(path);
    if (info.isSocket() && info.ino === inode) await unlink(path);
  } catch {
    // Already gone, or replaced by someone else: either way not ours to remove.
  }
}

