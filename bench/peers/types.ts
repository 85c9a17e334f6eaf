// What every system under test looks like to the harness: start it in front of the upstream
// with the shared site set and a worker count, get back the port it serves on.
import type { Child } from '../child.ts';

export type Family = 'ceiling' | 'ours' | 'native' | 'node';

export interface StartOptions {
  workers: number;
  upstreamPort: number;
  hosts: readonly string[];
  /** A fresh directory this system may write its config, logs and temp files into. */
  workDir: string;
  accessLog: boolean;
  /** Serve HTTPS with this certificate instead of plain HTTP (bench/tls.ts). */
  tls?: { certPath: string; keyPath: string };
}

export interface RunningSystem {
  port: number;
  /** Root of the process tree whose memory and CPU are this system's. */
  rootPid: number;
  stop(): Promise<void>;
}

export interface Peer {
  id: string;
  label: string;
  family: Family;
  start(options: StartOptions): Promise<RunningSystem>;
}

/** The usual shape: a child process serving on `port`. */
export function runningChild(child: Child, port: number): RunningSystem {
  return { port, rootPid: child.pid, stop: () => child.stop() };
}
