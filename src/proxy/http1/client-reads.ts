// How a client connection receives its bytes. A plain TCP socket reads into one buffer that
// every plain connection of the worker shares (net.Socket's `onread`): left to itself, Node gives
// each read a fresh 64 KiB buffer, outside the V8 heap, and under load those were the bulk of the
// worker's garbage and of its mark-compact GCs (bench/findings.md). Sharing is safe because a read
// is delivered synchronously: the bytes are consumed (or copied) before the next read anywhere.
// So the rule for every consumer is the same, whatever the socket: a chunk is lent only for the
// call it is handed to; whoever keeps bytes past it keeps a copy (connection.ts, read-buffers.ts).
//
// net.Server has no `onread` of its own, so an accepted socket, still paused (`pauseOnConnect`),
// has its handle moved into a new net.Socket made with `onread`. That takes three fields Node
// does not document (`_handle`, `server`, `_server`, the last of which keeps the server's
// connection count right); test/engine-client-reads.test.ts fails if the pinned Node changes them.
// TLS sockets decrypt into buffers of their own and keep Node's 'data' events.
import { Socket } from 'node:net';
import { CLIENT_READ_BUFFER_BYTES } from '../limits.ts';

export type ChunkHandler = (chunk: Buffer) => void;

/** A client socket and the one way its received bytes reach the connection. */
export interface ClientStream {
  readonly socket: Socket;
  /** Sets who receives each chunk (lent for the duration of the call). */
  onChunk(handler: ChunkHandler): void;
}

/** The fields of an accepted net.Socket that moving its handle touches. */
interface AcceptedSocket {
  _handle: object | null;
  server: unknown;
  _server: unknown;
}

const sharedReadBuffer = Buffer.allocUnsafeSlow(CLIENT_READ_BUFFER_BYTES);

const ignore: ChunkHandler = () => undefined;

/** A plain socket accepted paused: from here on it reads into the shared buffer. */
export function sharedBufferStream(accepted: Socket, allowHalfOpen: boolean): ClientStream {
  const old = accepted as unknown as AcceptedSocket;
  const handle = old._handle;
  let handler = ignore;
  // `handle` is not in the published options; the constructor takes it as onconnection does.
  const socket = new Socket({
    handle,
    allowHalfOpen,
    readable: true,
    writable: true,
    onread: {
      buffer: sharedReadBuffer,
      callback: (nread: number) => {
        handler(sharedReadBuffer.subarray(0, nread));
        return true;
      },
    },
  } as unknown as ConstructorParameters<typeof Socket>[0]);
  const adopted = socket as unknown as AcceptedSocket;
  adopted.server = old.server;
  adopted._server = old._server;
  // The old wrapper must never close the handle or count the connection closed a second time.
  old._handle = null;
  old.server = null;
  old._server = null;
  return {
    socket,
    onChunk(next) {
      handler = next;
    },
  };
}

/** A socket that delivers its own buffers ('data' events), such as a TLS socket. */
export function eventStream(socket: Socket): ClientStream {
  return {
    socket,
    onChunk(handler) {
      socket.on('data', handler);
    },
  };
}
