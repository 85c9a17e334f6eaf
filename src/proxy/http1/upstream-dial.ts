// Opening a connection to an upstream server: plain TCP or TLS (SNI, the CAs and verification of
// `tls_ca_file` / `tls_verify`, ALPN http/1.1), reading into the caller's recycled buffers
// (`onread`). Apart from upstream-connection.ts because it is the one place that knows the
// transports; the connection's life and parsing are the same over both.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** Where and how to connect; one per pool. */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** TLS server name (SNI and the name the certificate is checked against); undefined for an IP. */
  readonly servername: string | undefined;
  readonly connectTimeoutMs: number;
  /** CAs trusted instead of the system ones (`tls_ca_file`). */
  readonly ca: string | undefined;
  /** false only with `tls_verify = false`. */
  readonly rejectUnauthorized: boolean;
}

/**
 * Connects to `target`. `nextBuffer` gives each read's buffer (undefined: keep the current one),
 * `onRead` receives each read, and `onConnected` runs once the connection (and its TLS handshake)
 * is up.
 */
export function dial(target: UpstreamTarget, nextBuffer: () => Buffer | undefined, onRead: (length: number, buffer: Buffer) => boolean, onConnected: () => void): Socket {
  // Node keeps the current buffer when the generator returns something that is not one,
  // which the published type does not admit; tls.connect passes `onread` on to its socket.
  const onread = { buffer: nextBuffer as () => Uint8Array, callback: onRead };
  const socket = target.tls
    ? tlsConnect({ host: target.host, port: target.port, servername: target.servername, ca: target.ca, rejectUnauthorized: target.rejectUnauthorized, ALPNProtocols: ['http/1.1'], onread } as ConnectionOptions)
    : netConnect({ host: target.host, port: target.port, onread });
  socket.setNoDelay(true);
  socket.once(target.tls ? 'secureConnect' : 'connect', onConnected);
  return socket;
}
