// podman as these machines can run it: the runc runtime (crun refuses their hybrid cgroup
// layout), and ulimits below the hard limit the VM allows (podman's default nofile is higher, and
// runc then fails with "error setting rlimit type 7").
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './exec.ts';

export function podman(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run('podman', ['--runtime', 'runc', ...args], options);
}

/**
 * `kube play` has no --ulimit flag, so the limits go in a containers.conf used by this run only
 * (in `dir`); the returned environment points podman at it.
 */
export async function lowUlimitsEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const file = join(dir, 'containers.conf');
  await writeFile(file, '[containers]\ndefault_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]\n');
  return { ...process.env, CONTAINERS_CONF: file };
}
