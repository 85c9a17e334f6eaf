// Rules for a Unix socket path that the proxy binds. Kept apart so that config validation and
// the admin listener apply exactly the same rules.
import { isAbsolute } from 'node:path';

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Why `path` cannot be a socket path, or undefined when it can. */
export function socketPathProblem(path: string): string | undefined {
  if (!isAbsolute(path)) return `"${path}" must be an absolute path`;
  if (path.split('/').includes('..')) return `"${path}" must not contain ".."`;
  if (path.endsWith('/')) return `"${path}" names a directory, not a socket file`;
  if (path.includes('\0')) return 'must not contain a NUL byte';
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) return `"${path}" is ${bytes} bytes long; Unix socket paths are limited to ${MAX_SOCKET_PATH_BYTES}`;
  return undefined;
}
