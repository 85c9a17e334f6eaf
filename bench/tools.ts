// External programs the harness drives. They are Debian packages, not npm dependencies, so
// the harness checks for them up front and says how to install what is missing instead of
// failing halfway through a ten-minute run.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';

interface Tool {
  program: string;
  debianPackage: string;
  purpose: string;
}

export const WRK: Tool = { program: 'wrk', debianPackage: 'wrk', purpose: 'load generator' };
export const NGINX: Tool = { program: 'nginx', debianPackage: 'nginx', purpose: 'peer: nginx' };
export const HAPROXY: Tool = { program: 'haproxy', debianPackage: 'haproxy', purpose: 'peer: HAProxy' };
export const GNU_TIME: Tool = { program: 'time', debianPackage: 'time', purpose: 'peak RSS of the readiness probe' };

/** Absolute path of `program` on PATH (plus the sbin directories nginx and haproxy live in). */
export function findProgram(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Exits with install instructions when any of `tools` is missing. */
export function requireTools(tools: readonly Tool[]): void {
  const missing = tools.filter((t) => findProgram(t.program) === undefined);
  if (missing.length === 0) return;
  const lines = missing.map((t) => `  ${t.program.padEnd(8)} (${t.purpose})`);
  const packages = missing.map((t) => t.debianPackage).join(' ');
  process.stderr.write(`bench: missing programs:\n${lines.join('\n')}\ninstall them with:\n  sudo apt-get update && sudo apt-get install -y ${packages}\n`);
  process.exit(2);
}

/** First line a program prints about its version, for the report. */
export function versionOf(program: string, args: readonly string[]): string {
  const path = findProgram(program);
  if (!path) return 'not installed';
  // nginx prints its version on stderr, wrk prints it and then exits 1: take whatever came out.
  const result = spawnSync(path, args, { encoding: 'utf8', timeout: 5_000 });
  return `${result.stdout ?? ''}\n${result.stderr ?? ''}`.split('\n').map((l) => l.trim()).find(Boolean) ?? 'unknown';
}
