// The Node/V8 flags a worker process starts with, on top of the master's own.
//
// A worker's garbage is mostly body buffers: every chunk read from a client or an upstream is
// a new buffer outside the V8 heap, freed only when a GC collects its small JS wrapper. With the
// default young generation (Node 24 grows it to tens of MB) scavenges come rarely, the external
// memory piles up, and V8 answers with full mark-compacts. A 1 MB semi-space lets cheap, frequent
// scavenges free most wrappers first. bench/findings.md has the measured effect (GC counts and
// CPU per request on 64 KiB responses and 1 MiB POSTs).
//
// The master needs it as much (input it drains from abusive admin clients is the same kind of
// garbage), but a process cannot resize its own heap once started: bin/reverse-proxy.js, the
// entry the image and `npm install -g` use, passes the flag on its shebang line.

/** The young-generation size our processes get unless the operator chose one. */
export const SMALL_YOUNG_GENERATION_FLAG = '--max-semi-space-size=1';

/**
 * The execArgv to fork workers with: the master's own flags (so `node --inspect …` or a
 * user's heap flags still reach the workers) plus SMALL_YOUNG_GENERATION_FLAG, left out when the
 * operator already set a semi-space size on the master's command line or in NODE_OPTIONS.
 */
export function workerExecArgv(masterExecArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const chosen = [...masterExecArgv, ...(nodeOptions ?? '').split(/\s+/)].some((flag) => /^--(max|min)[-_]semi[-_]space[-_]size\b/.test(flag));
  return chosen ? [...masterExecArgv] : [SMALL_YOUNG_GENERATION_FLAG, ...masterExecArgv];
}
