// What a real Node process loads when it runs one of our entry points: every module URL the
// resolver hands out (packages and our own files) and the Node-internal modules it pulled in
// (process.moduleLoadList). Used to keep heavy dependencies off paths that must stay light.
import { spawn } from 'node:child_process';

export interface LoadedModules {
  code: number | null;
  stderr: string;
  /** Resolved URLs, file:// and node:, in load order. */
  resolved: string[];
  /** Node's own internal modules, e.g. "NativeModule internal/deps/undici/undici". */
  internal: string[];
}

/** Runs `entry` (a file URL) in a fresh Node with `argv` as its process.argv tail, and reports what loaded until exit. */
export async function loadedModules(entry: string, argv: readonly string[] = []): Promise<LoadedModules> {
  const probe = `
    import { registerHooks } from 'node:module';
    const resolved = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.push(r.url); return r; } });
    process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify({ resolved, internal: process.moduleLoadList }) + '\\n'));
    process.argv.splice(1, Infinity, ${JSON.stringify(entry)}, ...${JSON.stringify(argv)});
    await import(${JSON.stringify(entry)});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const report = /LOADED (.*)/.exec(stderr);
  if (!report) throw new Error(`no module report (exit ${code}):\n${stderr}`);
  const { resolved, internal } = JSON.parse(report[1]!) as { resolved: string[]; internal: string[] };
  return { code, stderr, resolved, internal };
}
