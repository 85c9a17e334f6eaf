// `reverse-proxy ctl` without a command: one prompt-mode connection to the master CLI, driven
// either by lines piped in (`echo 'show proc' | reverse-proxy ctl`) or by a person at a
// terminal, with node:readline's line editing and history. Both read a reply as everything the
// server writes before its next prompt, so routing (`@1` alone on a line) lasts as it would
// through socat.
import { connect, type Socket } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { AdminUnreachableError } from '../errors.ts';
import { describeConnectError } from './client.ts';

/** A prompt at the end of what the server sent: `master> `, `1> `, `!4242> `, after a newline or alone. */
const TRAILING_PROMPT = /(?:^|\n)((?:master|\d+|![0-9]+)> )$/;
/** Lines a person can type again with the arrow keys, as in a shell. */
const CTL_HISTORY_SIZE = 500;

/** A line the server must not get from ctl: it would end prompt mode under ctl's feet. */
const LOCAL_NOTE: Readonly<Record<string, string>> = {
  prompt: 'ctl is already interactive; leave with "quit" or Ctrl-D',
};

/** One prompt-mode connection: send a line, get the reply that precedes the next prompt. */
class PromptConnection {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  #buffer = '';
  #closed = false;
  #waiter: (() => void) | undefined;
  prompt = 'master> ';

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => {}); // a reset ends in 'close' like any other end
  }

  static open(socketPath: string, timeoutMs: number): Promise<PromptConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.once('error', (err: NodeJS.ErrnoException) => reject(new AdminUnreachableError(socketPath, describeConnectError(err), { cause: err })));
      socket.once('connect', () => {
        const connection = new PromptConnection(socket, timeoutMs);
        connection.send('prompt').then((reply) => {
          // Anything but a bare prompt (the server's session limit, say) is the reason we cannot go on.
          if (reply.closed || reply.text !== '') reject(new AdminUnreachableError(socketPath, reply.text.trim() || 'closed the connection'));
          else resolve(connection);
        }, reject);
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one line; resolves with the reply once the next prompt (or the close) arrives. */
  send(line: string): Promise<{ text: string; closed: boolean }> {
    this.#buffer = '';
    if (!this.#closed) this.#socket.write(`${line}\n`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        this.#socket.destroy();
        reject(new Error(`no reply to "${line}" within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      const check = () => {
        const prompt = TRAILING_PROMPT.exec(this.#buffer);
        if (prompt === null && !this.#closed) return;
        clearTimeout(timer);
        this.#waiter = undefined;
        if (prompt !== null) this.prompt = prompt[1]!;
        resolve({ text: prompt === null ? this.#buffer : this.#buffer.slice(0, this.#buffer.length - prompt[1]!.length), closed: prompt === null });
      };
      this.#waiter = check;
      check();
    });
  }

  /** Says goodbye the way a person would, so the server frees the session at once. */
  end(): void {
    if (!this.#closed) this.#socket.end('quit\n');
  }
}

/** What the server suggests at the prompt after `command` (the text after its error line), '' when nothing is close. */
export async function suggestionsFor(socketPath: string, timeoutMs: number, command: string): Promise<string> {
  const connection = await PromptConnection.open(socketPath, timeoutMs);
  try {
    const { text } = await connection.send(command);
    return text.slice(text.indexOf('\n') + 1);
  } finally {
    connection.end();
  }
}

/** 1 when the reply is a JSON error line: what decides ctl's exit status, line by line. */
type ExitCodeOf = (reply: string) => number;

/**
 * Piped input: one command per line, replies on stdout in order, no prompts. The exit status
 * is that of the last command that failed (1), 0 when none did, 2 when the connection was lost.
 */
export async function runPipedSession(socketPath: string, timeoutMs: number, exitCodeOf: ExitCodeOf): Promise<number> {
  const connection = await PromptConnection.open(socketPath, timeoutMs);
  let status = 0;
  let sent = 0;
  for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    const line = raw.trim();
    if (line === '') continue;
    const note = LOCAL_NOTE[line];
    if (note !== undefined) {
      process.stderr.write(`reverse-proxy ctl: ${note}\n`);
      continue;
    }
    sent++;
    const reply = await connection.send(line);
    process.stdout.write(reply.text);
    if (exitCodeOf(reply.text) !== 0) status = exitCodeOf(reply.text);
    if (reply.closed) {
      if (line !== 'quit' && !line.endsWith('; quit')) return 2;
      break;
    }
  }
  connection.end();
  if (sent === 0) {
    process.stderr.write('reverse-proxy ctl: no command given: pass one as arguments, pipe lines in, or run it on a terminal\n');
    return 2;
  }
  return status;
}

/** A person at a terminal: readline prompt with history; `quit` or Ctrl-D ends it. */
export async function runInteractiveSession(socketPath: string, timeoutMs: number): Promise<number> {
  const connection = await PromptConnection.open(socketPath, timeoutMs);
  const rl: Interface = createInterface({ input: process.stdin, output: process.stdout, terminal: true, historySize: CTL_HISTORY_SIZE, removeHistoryDuplicates: true });
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      connection.end();
      rl.close();
      resolve(code);
    };
    rl.on('line', async (raw) => {
      const line = raw.trim();
      const note = LOCAL_NOTE[line];
      if (note !== undefined) process.stdout.write(`${note}\n`);
      else if (line !== '') {
        rl.pause();
        let reply: { text: string; closed: boolean };
        try {
          reply = await connection.send(line);
        } catch (err) {
          process.stderr.write(`reverse-proxy ctl: ${(err as Error).message}\n`);
          return finish(2);
        }
        process.stdout.write(reply.text);
        if (reply.closed) {
          // `quit` ends the session as asked; anything else closing it is the proxy going away.
          const asked = line === 'quit' || line.endsWith('; quit');
          if (!asked) process.stderr.write('reverse-proxy ctl: the proxy closed the connection\n');
          return finish(asked ? 0 : 2);
        }
        rl.resume();
      }
      rl.setPrompt(connection.prompt);
      rl.prompt();
    });
    // Ctrl-C clears the line being typed, as in a shell; Ctrl-D on an empty line leaves.
    rl.on('SIGINT', () => {
      process.stdout.write('^C\n');
      rl.write(null, { ctrl: true, name: 'u' });
      rl.prompt();
    });
    rl.on('close', () => {
      if (!done) process.stdout.write('\n');
      finish(0);
    });
    rl.setPrompt(connection.prompt);
    rl.prompt();
  });
}
