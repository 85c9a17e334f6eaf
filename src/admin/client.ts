// The client side of the admin socket, shared by `ctl` and the reloader: check whose socket it
// is, connect, send one line, collect everything until the server closes.
import { connect } from 'node:net';
import { AdminUnreachableError } from '../errors.ts';
import { checkSocketOwner } from './socket-owner.ts';

/** How long a client waits for the whole exchange before giving up. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;

export function describeConnectError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such socket (is the proxy running, and is the path right?)';
    case 'ECONNREFUSED':
      return 'connection refused (stale socket: no process is listening)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (check the socket mode and the group of this user)';
    case 'ENOTSOCK':
      return 'the path is not a socket';
    default:
      return err.code ?? err.message;
  }
}

/** Flag and variable that name the user a client should accept as the socket's owner. */
export const SOCKET_OWNER_FLAG = '--socket-owner';
export const SOCKET_OWNER_ENV = 'REVERSE_PROXY_SOCKET_OWNER';

/**
 * Throws AdminSocketOwnerError unless the socket belongs to this user, root, or
 * `expectedOwner`: a client must never send `reload` to, or believe the answer of, a socket
 * another local user put at the path.
 */
export function checkServerOwner(socketPath: string, expectedOwner: number | undefined): void {
  checkSocketOwner(socketPath, expectedOwner, `refusing to talk to it; if the proxy runs as that user, name it with ${SOCKET_OWNER_FLAG} (env ${SOCKET_OWNER_ENV})`);
}

/**
 * Sends `command` (a newline is added) and resolves with the server's whole reply. Rejects
 * with AdminSocketOwnerError, before connecting, when the socket is not owned by a user we trust.
 */
export function sendCommand(socketPath: string, command: string, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS, expectedOwner?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    try {
      checkServerOwner(socketPath, expectedOwner);
    } catch (err) {
      reject(err);
      return;
    }
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new AdminUnreachableError(socketPath, `no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      connected = true;
      socket.end(`${command}\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Once connected, a reset or broken pipe just ends the reply: whatever arrived (possibly
      // nothing) is the answer, and the caller decides what an empty one means.
      if (connected) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(new AdminUnreachableError(socketPath, describeConnectError(err), { cause: err }));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
