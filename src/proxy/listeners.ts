// The listening sockets: plain `net` servers, and `tls` servers for `tls = true` listeners, which
// take their certificates from the worker's TlsTerminator (the current generation's, by SNI).
// Both hand over raw sockets; HTTP is spoken by src/proxy/http1/. In a worker, listen() goes
// through node:cluster, so the master holds the listening socket (docs/architecture.md).
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { ListenerConfig } from '../config/schema.ts';
import { describeErrno, ListenerError } from '../errors.ts';
import { eventStream, sharedBufferStream, type ClientStream } from './http1/client-reads.ts';
import type { TlsTerminator } from './tls-terminator.ts';

interface ListenerHooks {
  /** Every accepted TCP connection (for counting and the drain deadline). */
  accepted(socket: Socket): void;
  /** A connection ready for HTTP: at once for plain listeners, after the handshake for TLS. */
  ready(stream: ClientStream): void;
}

// allowHalfOpen: a client that shuts down its sending side after the request (`printf … | nc`)
// still gets its response; the connection closes after it.
const SOCKET_OPTIONS = { allowHalfOpen: true, noDelay: true } as const;

export function createListener(listener: ListenerConfig, handshakeTimeoutMs: number, tls: TlsTerminator, hooks: ListenerHooks): NetServer {
  if (!listener.tls) {
    // Accepted paused, so no read happens before the socket reads into the shared buffer.
    return createNetServer({ ...SOCKET_OPTIONS, pauseOnConnect: true }, (accepted) => {
      const stream = sharedBufferStream(accepted, SOCKET_OPTIONS.allowHalfOpen);
      hooks.accepted(stream.socket);
      hooks.ready(stream);
    });
  }
  const server = tlsServer(tls, handshakeTimeoutMs);
  tls.track(server);
  server.on('connection', (socket: Socket) => hooks.accepted(socket));
  server.on('secureConnection', (socket: TLSSocket) => hooks.ready(eventStream(socket)));
  return server;
}

/** The TLS server of one listener: the one place its options are set (certificates, TLS 1.2+ and ALPN come from the terminator). */
function tlsServer(tls: TlsTerminator, handshakeTimeoutMs: number): TlsServer {
  // A handshake is part of the request head's time budget (client_header_timeout_secs).
  return createTlsServer({ ...SOCKET_OPTIONS, ...tls.serverOptions(), handshakeTimeout: handshakeTimeoutMs });
}

function listenerName(listener: ListenerConfig): string {
  return formatAddress(listener.address, listener.port);
}

function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no such address on this host',
  EACCES: 'permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE)',
};

/** Binds `server`; resolves with the bound "address:port". */
export function listenOn(server: NetServer, listener: ListenerConfig): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new ListenerError(listenerName(listener), `cannot listen: ${describeErrno(error, LISTEN_ERRORS)}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen({ host: listener.address, port: listener.port }, () => {
      server.off('error', onError);
      const address = server.address() as AddressInfo;
      resolve(formatAddress(address.address, address.port));
    });
  });
}
