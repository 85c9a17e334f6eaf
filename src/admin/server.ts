// An admin socket: a safely bound Unix socket whose connections speak the seed 000 protocol
// and the master CLI, at one privilege level. The process owning it supplies a MasterBackend.
import { createServer, type Socket } from 'node:net';
import type { AdminLevel } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { MasterBackend } from './backend.ts';
import { bindUnixSocket, unlinkIfOurs } from './bind.ts';
import { replyAndClose, serveConnection, type AdminConnection } from './connection.ts';
import { DEFAULT_ADMIN_LIMITS, type AdminLimits } from './limits.ts';
import { errorReply } from './reply.ts';

interface AdminSocketOptions {
  path: string;
  mode: number;
  level: AdminLevel;
  backend: MasterBackend;
  logger: Logger;
  /** Overrides of DEFAULT_ADMIN_LIMITS; the runtime leaves this out. */
  limits?: Partial<AdminLimits>;
}

export interface AdminSocket {
  readonly path: string;
  readonly level: AdminLevel;
  readonly mode: number;
  /** Stops listening, closes open connections and removes the socket file if it is still ours. */
  close(): Promise<void>;
}

function tooManyConnectionsMessage(limit: number): string {
  return `too many admin connections (limit ${limit}); try again`;
}

/**
 * Binds the socket and starts serving. Resolves undefined (after a warning) when another live
 * process answers on the path; throws AdminSocketUnsafeError when the path cannot be used safely.
 */
export async function startAdminSocket(options: AdminSocketOptions): Promise<AdminSocket | undefined> {
  const { path, mode, level, backend } = options;
  const logger = options.logger.child({ admin_socket: path });
  const limits: Readonly<AdminLimits> = { ...DEFAULT_ADMIN_LIMITS, ...options.limits };
  const tooMany = errorReply(tooManyConnectionsMessage(limits.maxConnections));
  const connections = new Map<Socket, AdminConnection>();
  let promptSessions = 0;
  const context = {
    backend,
    logger,
    limits,
    enterPrompt: () => {
      if (promptSessions >= limits.maxPromptSessions) return false;
      promptSessions++;
      return true;
    },
    leavePrompt: () => {
      promptSessions--;
    },
  };

  /** Frees a slot by closing the longest-waiting client that has not sent its command yet. */
  const evictSlowest = (): boolean => {
    for (const connection of connections.values()) {
      if (connection.waitingForCommand) {
        connection.closeWith(tooMany);
        return true;
      }
    }
    return false;
  };

  const server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => {
    if (connections.size >= limits.maxConnections && !evictSlowest()) {
      logger.debug({ event: 'admin_connection_refused', limit: limits.maxConnections }, 'admin connection limit reached');
      socket.on('error', () => {});
      replyAndClose(socket, tooMany, limits.replyWriteTimeoutMs);
      return;
    }
    connections.set(socket, serveConnection(socket, level, context));
    socket.once('close', () => connections.delete(socket));
  });
  // Accept failures (EMFILE and the like) must not take the proxy down with them.
  server.on('error', (err) => logger.error({ event: 'admin_socket_error', err }, 'admin socket error'));

  const bound = await bindUnixSocket(server, path, mode);
  if (bound.kind === 'in-use') {
    logger.warn({ event: 'admin_socket_in_use', path }, `admin socket ${path} is answered by another process; running without it`);
    return undefined;
  }
  logger.info({ event: 'admin_socket_listening', path, access_level: level, mode: `0${mode.toString(8)}` }, `admin socket listening on ${path}`);

  let closing: Promise<void> | undefined;
  return {
    path,
    level,
    mode,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of connections.keys()) socket.destroy();
      }).then(() => unlinkIfOurs(path, bound.inode));
      return closing;
    },
  };
}
