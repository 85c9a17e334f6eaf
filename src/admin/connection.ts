// One admin connection from accept to close. By default it reads one command line, answers
// and closes (seed 000); after `prompt` it keeps reading lines and prints a prompt after each
// reply. Every wait is bounded by a timer, so no client can hold its slot indefinitely.
import type { Socket } from 'node:net';
import type { AdminLevel } from '../config/schema.ts';
import { LineBuffer, decodeLine } from './line.ts';
import { runCommandLine, type CliContext, type CliSession } from './master-cli.ts';
import { INVALID_INPUT, errorReply } from './reply.ts';
import { promptFor } from './target.ts';

function commandTimeoutMessage(timeoutMs: number): string {
  return `no complete command line within ${timeoutMs} ms`;
}

/**
 * Sends a last reply and closes once the client has its side closed too. Closing a Unix socket
 * while input it sent is still unread makes the kernel reset the connection, and the client
 * then loses the reply: so input is read and dropped until the client's end arrives (ctl and
 * socat half-close right after their command). A client that neither reads nor closes is cut
 * off after `writeTimeoutMs`.
 */
export function replyAndClose(socket: Socket, text: string, writeTimeoutMs: number): void {
  if (socket.destroyed || socket.writableEnded) return;
  const timer = setTimeout(() => socket.destroy(), writeTimeoutMs);
  socket.once('close', () => clearTimeout(timer));
  const closeIfDone = () => {
    if (socket.readableEnded && socket.writableFinished) socket.destroy();
  };
  socket.once('end', closeIfDone);
  socket.end(text, closeIfDone);
  socket.resume();
}

export interface AdminConnection {
  /** True until the first command line has arrived: such a client can be evicted to make room. */
  readonly waitingForCommand: boolean;
  /** Answers `text` and closes, whatever the connection was doing. */
  closeWith(text: string): void;
}

export function serveConnection(socket: Socket, level: AdminLevel, context: CliContext): AdminConnection {
  const { limits } = context;
  const lines = new LineBuffer();
  const session: CliSession = { level, target: { kind: 'master' }, interactive: false, quit: false };
  let linesSeen = 0;
  let busy = false;
  let inputEnded = false;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;

  const arm = (ms: number, onExpiry: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(onExpiry, ms);
  };
  const finish = (text: string) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.pause();
    replyAndClose(socket, text, limits.replyWriteTimeoutMs);
  };

  const handleLine = async (raw: Buffer) => {
    linesSeen++;
    clearTimeout(timer); // running a command is bounded by the backend, not by the read timer
    const text = decodeLine(raw);
    const output = text === undefined ? errorReply(INVALID_INPUT) : await runCommandLine(text, context, session);
    if (finished || socket.destroyed) return;
    if (!session.interactive || session.quit) {
      finish(output);
      return;
    }
    const more = socket.write(output + promptFor(session.target));
    arm(limits.promptIdleTimeoutMs, () => socket.destroy());
    if (!more) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
  };

  const pump = async () => {
    if (busy || finished) return;
    busy = true;
    socket.pause();
    try {
      for (;;) {
        const raw = lines.takeLine();
        if (raw === 'overflow') return finish(errorReply(INVALID_INPUT));
        if (raw !== undefined) {
          await handleLine(raw);
          if (finished || socket.destroyed) return;
          continue;
        }
        if (!inputEnded) break;
        // The client half-closed: a last line without its newline still counts.
        if (lines.hasPartialLine) {
          await handleLine(lines.takeRest());
          if (finished || socket.destroyed) return;
        }
        return finish(linesSeen === 0 ? errorReply(INVALID_INPUT) : '');
      }
    } catch (err) {
      // Nothing in a connection may take the proxy down: drop this client, keep serving others.
      context.logger.error({ event: 'admin_connection_failed', err }, 'admin connection failed');
      socket.destroy();
      return;
    } finally {
      busy = false;
    }
    socket.resume();
  };

  arm(limits.commandReadTimeoutMs, () => finish(errorReply(commandTimeoutMessage(limits.commandReadTimeoutMs))));
  socket.on('data', (chunk: Buffer) => {
    // After the last reply, input is only drained so the close is clean (see replyAndClose).
    if (finished) return;
    lines.push(chunk);
    void pump();
  });
  socket.on('end', () => {
    inputEnded = true;
    void pump();
  });
  // Resets and broken pipes end in 'close'; nothing to report to anyone.
  socket.on('error', () => {});
  socket.on('close', () => {
    finished = true;
    clearTimeout(timer);
    if (session.interactive) context.leavePrompt();
  });

  return {
    get waitingForCommand() {
      return linesSeen === 0 && !busy && !finished;
    },
    closeWith: finish,
  };
}
