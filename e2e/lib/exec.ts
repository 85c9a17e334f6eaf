// Runs external commands for the e2e stages with a deadline, capturing output so a failure
// shows what the command said.
import { spawn } from 'node:child_process';

export interface RunOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stream output to this process's stderr as well (long builds). */
  echo?: boolean;
  /** Resolve instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 60_000, input, env, cwd, echo = false, allowFailure = false } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => {
      out.push(c);
      if (echo) process.stderr.write(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      if (echo) process.stderr.write(c);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (result.code === 0 || allowFailure) resolve(result);
      else {
        const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs} ms` : ''}` : `exit ${result.code}`;
        reject(new Error(`${command} ${args.join(' ')}: ${why}\n${result.stderr.slice(-4000)}${result.stdout.slice(-2000)}`));
      }
    });
    child.stdin.end(input);
  });
}

/** True when `command` can be started at all (it is installed and on PATH). */
export async function available(command: string, versionArgs: readonly string[] = ['--version']): Promise<boolean> {
  try {
    await run(command, versionArgs, { timeoutMs: 15_000 });
    return true;
  } catch {
    return false;
  }
}
