// How a client connection receives its bytes. A plain TCP socket reads into one buffer that
// every plain connection of the worker shares (net.Socket's `onread`): left to itself, Node gives
// each read a fresh 64 KiB buffer, outside the V8 heap, and under load those were the bulk of the
// worker's garbage and of its mark-compact GCs (bench/findings.md). Sharing is safe because a read
// is delivered synchronously: the bytes are consumed (or copied) before the next read anywhere.
// So the rule for every consumer is the same, whatever the socket: a chunk is lent only for the
// call it is handed to; whoever keeps bytes past it keeps a copy (connection.ts, read-buffers.ts).
//
// The one exception is writeFromClient, for request body and tunnel bytes going upstream. While
// a connection streams (its `streaming` predicate), after a read of at least
// OWN_READ_BUFFER_MIN_READ_BYTES its next read goes into a free-list buffer of its own
// (`onread.buffer` is a function Node calls after every read for the next read's buffer). A
// chunk of such a read is written upstream as it is; if the socket still holds its bytes when the
// read has been handled, the buffer comes back once they are flushed and the connection's next
// read takes another one. Backpressure is unchanged: a write that returns false still pauses the
// client, so a stalled upstream holds at most the reads already written to it.
//
// net.Server has no `onread` of its own, so an accepted socket, still paused (`pauseOnConnect`),
// has its handle moved into a new net.Socket made with `onread`. That takes three fields Node
// does not document (`_handle`, `server`, `_server`, the last of which keeps the server's
// connection count right); test/engine-client-reads.test.ts fails if the pinned Node changes them.
// TLS sockets decrypt into buffers of their own and keep Node's 'data' events.
import { Socket } from 'node:net';
import { CLIENT_READ_BUFFER_BYTES, OWN_READ_BUFFER_MIN_READ_BYTES } from '../limits.ts';
import { beginRead, endRead } from '../read-clock.ts';
import { giveBackReadBuffer, giveBackWhenFlushed, takeBodyReadBuffer, writeCopy } from './read-buffers.ts';

export type ChunkHandler = (chunk: Buffer) => void;

/** A client socket and the one way its received bytes reach the connection. */
export interface ClientStream {
  readonly socket: Socket;
  /** Sets who receives each chunk (lent for the duration of the call). */
  onChunk(handler: ChunkHandler): void;
  /** Tells whether the connection streams its bytes upstream (writeFromClient may keep its reads). */
  streamsWhile(streaming: () => boolean): void;
}

/** The fields of an accepted net.Socket that moving its handle touches. */
interface AcceptedSocket {
  _handle: object | null;
  server: unknown;
  _server: unknown;
}

const sharedReadBuffer = Buffer.allocUnsafeSlow(CLIENT_READ_BUFFER_BYTES);

const ignore: ChunkHandler = () => undefined;
const never = (): boolean => false;

/**
 * The read being delivered, when it is in a buffer of its connection's own (one read at a time per
 * worker), and the socket its bytes were written to as they are, if any.
 */
let ownRead: { readonly buffer: Buffer; socket: Socket | undefined } | undefined;

/**
 * Writes `chunk`, lent by the client read being delivered, to `socket`: as it is when the read is
 * in a buffer of its own (kept out of the free list while the socket still holds its bytes), else
 * as a copy. Returns what the last `write` returned.
 */
export function writeFromClient(socket: Socket, chunk: Buffer): boolean {
  const read = ownRead;
  if (read === undefined || chunk.buffer !== read.buffer.buffer) return writeCopy(socket, chunk);
  // One read written to two sockets is never needed: the second gets a copy rather than a second owner.
  if (read.socket !== undefined && read.socket !== socket) return writeCopy(socket, chunk);
  read.socket = socket;
  // No callback: Node schedules no tick for a write that completes at once without one. Whether
  // it did is read once the read has been handled (sharedBufferStream).
  return socket.write(chunk);
}

/** A plain socket accepted paused: from here on it reads into the shared buffer, or its own while streaming. */
export function sharedBufferStream(accepted: Socket, allowHalfOpen: boolean): ClientStream {
  const old = accepted as unknown as AcceptedSocket;
  const handle = old._handle;
  let handler = ignore;
  let streaming = never;
  /** The buffer of its own the socket reads into next, if any; nobody else references it. */
  let own: Buffer | undefined;
  let lastRead = 0;
  let closed = false;
  const nextBuffer = (): Buffer | undefined => {
    if (closed) return undefined; // 'close' gives `own` back
    if (lastRead >= OWN_READ_BUFFER_MIN_READ_BYTES && streaming()) return (own ??= takeBodyReadBuffer());
    if (own !== undefined) giveBackReadBuffer(own);
    own = undefined;
    return sharedReadBuffer;
  };
  const handleRead = (nread: number, buffer: Buffer): void => {
    lastRead = nread;
    if (buffer === sharedReadBuffer) return handler(buffer.subarray(0, nread));
    const read = { buffer, socket: undefined as Socket | undefined };
    const outer = ownRead;
    ownRead = read;
    try {
      handler(buffer.subarray(0, nread));
    } finally {
      ownRead = outer;
    }
    // Nothing queued on the socket written to means every write of it has completed (the kernel
    // has the bytes), so the next read may reuse the buffer. Else it comes back once flushed, and
    // the next read takes another.
    if (read.socket !== undefined && read.socket.writableLength > 0) {
      own = undefined;
      giveBackWhenFlushed(read.socket, buffer);
    }
  };
  // Every stamp the handling of a read takes is the moment that read began (read-clock.ts).
  const onRead = (nread: number, buffer: Buffer): boolean => {
    const outerRead = beginRead();
    try {
      handleRead(nread, buffer);
    } finally {
      endRead(outerRead);
    }
    return true;
  };
  // `handle` is not in the published options; the constructor takes it as onconnection does.
  // Node keeps the current buffer when the generator returns something that is not one.
  const socket = new Socket({
    handle,
    allowHalfOpen,
    readable: true,
    writable: true,
    onread: { buffer: nextBuffer, callback: onRead },
  } as unknown as ConstructorParameters<typeof Socket>[0]);
  socket.once('close', () => {
    closed = true;
    if (own !== undefined) giveBackReadBuffer(own);
    own = undefined;
  });
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
    streamsWhile(predicate) {
      streaming = predicate;
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
    streamsWhile() {
      // Its buffers are its own already; writeFromClient copies what it sends upstream.
    },
  };
}
