// A client on a raw socket: exact bytes out, everything the proxy sends back collected, and
// whether (and when) the proxy closed the connection.
import { connect, type Socket } from 'node:net';

export interface RawExchange {
  socket: Socket;
  /** Everything received so far, latin1. */
  readonly received: string;
  /** Resolves once the proxy closed the connection, with all it sent. */
  closed: Promise<string>;
  /** Resolves once `received` matches. */
  waitFor(pattern: RegExp): Promise<string>;
}

export function rawConnect(port: number, bytes = ''): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      for (const waiter of waiters.splice(0)) {
        if (waiter.pattern.test(received)) waiter.resolve(received);
        else waiters.push(waiter);
      }
    });
    socket.on('error', () => undefined);
    const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
    socket.once('connect', () => {
      if (bytes !== '') socket.write(bytes, 'latin1');
      resolve({
        socket,
        get received() {
          return received;
        },
        closed,
        waitFor: (pattern) => (pattern.test(received) ? Promise.resolve(received) : new Promise((done) => waiters.push({ pattern, resolve: done }))),
      });
    });
    socket.once('error', reject);
  });
}

/** Sends `bytes` on a new connection and resolves with everything received until the proxy closes it. */
export async function rawRoundTrip(port: number, bytes: string): Promise<string> {
  const exchange = await rawConnect(port, bytes);
  return exchange.closed;
}
