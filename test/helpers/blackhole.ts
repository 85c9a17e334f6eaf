// An upstream address whose connect never completes, without leaving loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

export interface Blackhole {
  port: number;
  /** Stops the listener and the connections that fill its queue. */
  close(): void;
}

/**
 * A listener whose accept queue is full: a child process listens with backlog 1 and then
 * blocks its event loop, so it never accepts; once a few connections fill the queue the kernel
 * drops further SYNs and a connect hangs — a connect timeout without leaving loopback.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const script = `const s = require('node:net').createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(s.address().port + '\\n');
  setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 50);
});`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (data: Buffer) => resolve(Number(String(data).trim()))));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const filler = connect(port, '127.0.0.1');
    filler.on('error', () => undefined);
    fillers.push(filler);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    port,
    close() {
      for (const filler of fillers) filler.destroy();
      child.kill('SIGKILL');
    },
  };
}
