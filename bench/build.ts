// The container image runs the compiled build (`dist/`, plain JS), not the sources through
// type stripping, which costs every Node process ~18 MB of RSS here. Memory and probe numbers
// are therefore measured on a compiled copy, built into an ignored directory so the harness
// never touches the tree's own dist/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './our-instance.ts';

/** bench/results/tmp is git-ignored; src/version.ts reads ../package.json, so it is copied next to dist. */
const BUILD_ROOT = join(REPO_ROOT, 'bench', 'results', 'tmp');

/** Compiles src/ and returns the path of the compiled cli.js, or undefined (with the reason logged). */
export function buildCompiledCli(log: (line: string) => void): string | undefined {
  const outDir = join(BUILD_ROOT, 'dist');
  try {
    mkdirSync(BUILD_ROOT, { recursive: true });
    copyFileSync(join(REPO_ROOT, 'package.json'), join(BUILD_ROOT, 'package.json'));
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', outDir, '--sourceMap', 'false'], { stdio: 'pipe', timeout: 120_000 });
    return join(outDir, 'cli.js');
  } catch (err) {
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? (err as Error).message;
    log(`  compiled build failed, memory and probe numbers will come from the sources: ${out.split('\n')[0]}`);
    return undefined;
  }
}
