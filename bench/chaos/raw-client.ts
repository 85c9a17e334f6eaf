// A deliberately unpolite admin-socket client: sends arbitrary bytes, may never finish its
// line, and reports how the server ended the exchange.
import { connect, type Socket } from 'node:net';

export type Outcome = 'reply' | 'closed-silently' | 'reset' | 'refused' | 'client-timeout';

export interface Exchange {
  outcome: Outcome;
  reply: string;
  ms: number;
}

export interface RawOptions {
  /** Half-close after writing, as `socat` and `ctl` do. */
  end: boolean;
  timeoutMs: number;
}

export function rawExchange(path: string, payload: Buffer | string, o: RawOptions): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let connected = false;
    const socket = connect(path);
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      const reply = Buffer.concat(chunks).toString('utf8');
      resolve({ outcome: outcome === 'closed-silently' && reply.length > 0 ? 'reply' : outcome, reply, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish('client-timeout'), o.timeoutMs);
    socket.on('connect', () => {
      connected = true;
      if (o.end) socket.end(payload);
      else socket.write(payload);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => finish(!connected ? 'refused' : chunks.length > 0 ? 'reply' : 'reset'));
    socket.on('close', () => finish('closed-silently'));
  });
}

/** Opens a connection and trickles one byte per `intervalMs`, never a newline; resolves when the server closes it. */
export function slowLoris(path: string, intervalMs: number, giveUpMs: number): Promise<{ closedByServerAfterMs?: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(path);
    let ticker: NodeJS.Timeout | undefined;
    const done = (byServer: boolean) => {
      clearInterval(ticker);
      clearTimeout(giveUp);
      socket.destroy();
      resolve(byServer ? { closedByServerAfterMs: performance.now() - started } : {});
    };
    const giveUp = setTimeout(() => done(false), giveUpMs);
    socket.on('connect', () => {
      socket.write('s');
      ticker = setInterval(() => socket.write('x'), intervalMs);
    });
    socket.on('data', () => {});
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
  });
}
