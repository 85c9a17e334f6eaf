// The least a Node process can do per proxied request, as a yardstick for our engine: each
// client connection gets its own upstream connection, and bytes pass through both ways
// unparsed, unrouted, unlogged. The sockets are read and written as the engine does it: client
// reads into the worker's shared buffer (src/proxy/http1/client-reads.ts), upstream reads into
// one static buffer (`onread`), every chunk written on as a latin1 string copied out of the
// buffer. So the syscalls per request are the engine's, and what the engine costs above this
// process is the work its request path does in JS and V8 (bench/node-floor.ts).
// Not a proxy anyone should run: it forwards whatever it gets, Host and framing unchecked.
// Usage: node bench/floor-server.ts <port> <upstream port>
import { connect, createServer, type Socket } from 'node:net';
import { sharedBufferStream } from '../src/proxy/http1/client-reads.ts';
import { UPSTREAM_READ_BUFFER_BYTES } from '../src/proxy/limits.ts';

const port = Number(process.argv[2]);
const upstreamPort = Number(process.argv[3]);
const upstreamReadBuffer = Buffer.allocUnsafeSlow(UPSTREAM_READ_BUFFER_BYTES);

function passTo(socket: Socket): (nread: number, buffer: Buffer) => boolean {
  return (nread, buffer) => {
    socket.write(buffer.toString('latin1', 0, nread), 'latin1');
    return true;
  };
}

const server = createServer({ pauseOnConnect: true }, (accepted) => {
  const client = sharedBufferStream(accepted, false);
  const upstream = connect({ port: upstreamPort, host: '127.0.0.1', onread: { buffer: upstreamReadBuffer, callback: passTo(client.socket) } });
  client.onChunk((chunk) => upstream.write(chunk.toString('latin1'), 'latin1'));
  client.socket.setNoDelay(true);
  // Either side's end or failure ends both; the errors themselves say nothing a measurement needs.
  client.socket.on('error', () => undefined).once('close', () => upstream.destroy());
  upstream.on('error', () => undefined).once('close', () => client.socket.destroy());
  client.socket.resume();
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
