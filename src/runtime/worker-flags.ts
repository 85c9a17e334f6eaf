// The Node/V8 flags our processes start with: the master's (from the published entry's shebang)
// and a worker's, which differ.
//
// The master keeps a 1 MB young generation: its admin socket drains whatever an abusive client
// sends, and with the default young generation that garbage grew the master by ≈40 MB per 10,000
// fuzz inputs (bench/findings.md). A process cannot resize its own heap once started, so
// bin/reverse-proxy.js, the entry the image and `npm install -g` use, passes the flag on its
// shebang line, and names it in ENTRY_FLAGS_VARIABLE so the master can tell it from an
// operator's own flag.
//
// A worker's garbage is a few KB of short-lived objects per request (its reads land in shared or
// recycled buffers, src/proxy/http1/client-reads.ts and read-buffers.ts). With a 1 MB semi-space
// it was scavenged every ≈140 small GETs; 4 MB makes that ≈560, each scavenge costing about the
// same (what survives is the requests in flight). The scavenges run on the worker's own thread:
// a worker is one of about as many busy processes as there are cores, so the helper threads of
// a parallel scavenge find no idle core and only add hand-offs. bench/findings.md, "What each
// step changed", has the measurements.

/** The young-generation size the master (and ctl, reloader) start with: bin/reverse-proxy.js's shebang flag. */
export const SMALL_YOUNG_GENERATION_FLAG = '--max-semi-space-size=1';

/**
 * Set by bin/reverse-proxy.js's shebang to the flags it adds for the master itself, so they are
 * not handed to the workers as if an operator had chosen them.
 */
export const ENTRY_FLAGS_VARIABLE = 'REVERSE_PROXY_ENTRY_FLAGS';

/** A worker's GC flags, each with the operator flags that replace it. */
const WORKER_GC_DEFAULTS: readonly { flag: string; replacedBy: RegExp }[] = [
  { flag: '--max-semi-space-size=4', replacedBy: /^--(max|min)[-_]semi[-_]space[-_]size\b/ },
  { flag: '--no-parallel-scavenge', replacedBy: /^--(no[-_])?parallel[-_]scavenge\b|^--single[-_]threaded/ },
];

/** The GC flags a worker gets when the operator chose none. */
export const WORKER_GC_FLAGS: readonly string[] = WORKER_GC_DEFAULTS.map((d) => d.flag);

/**
 * The execArgv to fork workers with: the master's own flags (so `node --inspect …` or a user's
 * heap flags still reach the workers), less those the published entry added for the master
 * (`entryFlags`, the value of ENTRY_FLAGS_VARIABLE), after WORKER_GC_FLAGS. A GC flag is left out
 * when the operator set its kind on the master's command line or in NODE_OPTIONS.
 */
export function workerExecArgv(masterExecArgv: readonly string[], nodeOptions: string | undefined, entryFlags: string | undefined): string[] {
  const inherited = [...masterExecArgv];
  for (const flag of (entryFlags ?? '').split(/\s+/)) {
    const at = flag === '' ? -1 : inherited.indexOf(flag);
    if (at >= 0) inherited.splice(at, 1);
  }
  const operators = [...inherited, ...(nodeOptions ?? '').split(/\s+/)];
  const defaults = WORKER_GC_DEFAULTS.filter((d) => !operators.some((flag) => d.replacedBy.test(flag))).map((d) => d.flag);
  return [...defaults, ...inherited];
}
