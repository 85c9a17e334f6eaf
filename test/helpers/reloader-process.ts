// Runs the real `reverse-proxy reloader` for a test and collects its JSON log lines.
import type { TestContext } from 'node:test';
import { startLogged, type LoggedProcess } from './logged-process.ts';
import { CLI } from './proxy-process.ts';

export function startReloader(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): LoggedProcess {
  // Tests must not post Events to a cluster the developer's shell happens to point at.
  const reloader = startLogged('reloader', process.execPath, [CLI, 'reloader', ...args], { KUBECONFIG: '', POD_NAME: '', POD_NAMESPACE: '', ...env });
  t.after(async () => {
    if (reloader.child.exitCode === null && reloader.child.signalCode === null) reloader.child.kill('SIGKILL');
    await reloader.exited;
  });
  return reloader;
}
