// Ports for tests that need one nothing listens on (yet), found the safe way: bind port 0, read
// what the kernel gave, close.
import { createServer, type AddressInfo } from 'node:net';

/** A port on 127.0.0.1 that nothing listens on now: connecting is refused at once, binding works. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
