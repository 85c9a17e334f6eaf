#!/usr/bin/env -S REVERSE_PROXY_ENTRY_FLAGS=--max-semi-space-size=1 node --max-semi-space-size=1
// The `reverse-proxy` command, whatever `node` is first on PATH. Plain JavaScript that even
// Node 20 can parse, because a fresh machine's `node` may be older than the project's:
// - a checkout (src/ present) runs the TypeScript sources, needing no build step;
// - the image and the published package (no src/) run the compiled dist/;
// - a Node older than 24 re-runs this file with the Node 24 that `npm ci` installed (the
//   `node` devDependency), or says plainly what is missing.
// The flag on the first line is SMALL_YOUNG_GENERATION_FLAG, named again in ENTRY_FLAGS_VARIABLE so
// the master does not hand it to its workers as an operator's choice (src/runtime/worker-flags.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_NODE_MAJOR = 24;
const sources = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const compiled = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The Node 24 binary of the `node` npm package, if it is installed next to this one. */
function pinnedNode() {
  try {
    const binary = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** Runs this file again under `node`, relaying signals and the exit status. */
function rerunWith(node) {
  const child = spawn(node, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGUSR2']) {
    process.on(signal, () => {
      // Ctrl-C on a terminal already reached the child (same process group); relaying it
      // would count as a second Ctrl-C, which means "stop without draining".
      if (signal === 'SIGINT' && process.stdin.isTTY) return;
      child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}

const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_NODE_MAJOR) {
  const node = pinnedNode();
  if (node === undefined) {
    process.stderr.write(
      `reverse-proxy: needs Node.js ${REQUIRED_NODE_MAJOR} or later, and this is ${process.version}.\n` +
        `In a checkout, run 'npm ci' first (it installs Node ${REQUIRED_NODE_MAJOR} into node_modules); otherwise install Node.js ${REQUIRED_NODE_MAJOR}.\n`,
    );
    process.exit(70);
  }
  rerunWith(node);
} else if (existsSync(sources)) {
  await import(sources);
} else {
  await import(compiled);
}
