// podman as these machines can run it: the runc runtime, and ulimits below the host's so the
// container runtime does not try to raise them past what the VM allows.
import { run, type RunOptions, type RunResult } from './exec.ts';

export const ULIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=4096:4096'];

export function podman(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run('podman', ['--runtime', 'runc', ...args], options);
}
