// `reverse-proxy reloader`: the sidecar that keeps the proxy on the mounted config. Wires the
// watcher, the periodic resync, the reconciler, Events and the status endpoint together, and
// runs until SIGTERM/SIGINT.
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, type AdminSocketOwnerError } from '../errors.ts';
import { createLogger, EXIT_LOG_FLUSH_MS, flushLogs, type Logger } from '../log.ts';
import { createEventSink } from './kube-events.ts';
import { ReloaderMetrics } from './metrics.ts';
import { MountWatcher } from './mount-watcher.ts';
import { parseReloaderOptions, usage, wantsHelp, type ReloaderOptions } from './options.ts';
import { createProxyAdmin } from './proxy-admin.ts';
import { Reconciler } from './reconciler.ts';
import { startStatusServer, type StatusServer } from './status-server.ts';

/** On shutdown, how long to wait for a reload reply or pending Events before exiting anyway. */
export const SHUTDOWN_GRACE_MS = 5_000;

export const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** The admin socket belongs to a user we do not trust (AdminSocketOwnerError). */
const EXIT_SOCKET_REFUSED = 2;

/**
 * Resolves with the first stop signal. The handlers stay installed for the life of the process:
 * a runtime may deliver SIGTERM twice (podman stop does), and the second one must not kill the
 * reloader in the middle of its clean shutdown.
 */
function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => resolve(signal));
  });
}

const withinGrace = (work: Promise<unknown>) => Promise.race([work, sleep(SHUTDOWN_GRACE_MS, undefined, { ref: false })]);

async function run(options: ReloaderOptions, logger: Logger): Promise<number> {
  // Listen first: a SIGTERM during start-up must still shut down cleanly.
  const stopSignal = waitForStopSignal();
  const metrics = new ReloaderMetrics();
  const events = createEventSink(process.env, logger, metrics);
  let refuse: (err: AdminSocketOwnerError) => void = () => undefined;
  const refused = new Promise<AdminSocketOwnerError>((resolve) => (refuse = resolve));
  const reconciler = new Reconciler({
    configFile: options.configFile,
    proxy: createProxyAdmin(options.socketPath, options.reloadTimeoutSecs * 1000, options.socketOwner),
    logger,
    metrics,
    retryFailedSecs: options.retryFailedSecs,
    retryFailedMaxSecs: options.retryFailedMaxSecs,
    socketRetryMaxMs: options.socketRetryMaxMs,
    onReload: (report) => events.report(report),
    onRefused: refuse,
    // The certificates' directories are watched too; a Secret volume swaps `..data` there.
    onReferencedDirs: (dirs) => watcher.follow(dirs).catch((err: Error) => logger.error({ event: 'watcher_error', err: err.message }, `cannot watch ${dirs.join(', ')}: ${err.message}`)),
  });
  const watcher = new MountWatcher({ dirs: options.watchDirs, debounceMs: options.debounceMs, logger, metrics, onChange: (reason) => reconciler.trigger(reason) });

  let status: StatusServer | undefined;
  if (options.listen) {
    try {
      status = await startStatusServer({ ...options.listen, metrics, watching: () => watcher.active });
    } catch (err) {
      logger.fatal({ event: 'listen_failed', err: (err as Error).message }, `cannot listen on ${options.listen.host}:${options.listen.port}: ${(err as Error).message}`);
      return EXIT_FAILURE;
    }
  }

  await watcher.start();
  const resync = setInterval(() => {
    void watcher.recheck().catch((err: Error) => logger.error({ event: 'watcher_error', err: err.message }, 'recheck of the watched directories failed'));
    reconciler.trigger('resync');
  }, options.resyncSecs * 1000);
  logger.info(
    {
      event: 'reloader_started',
      watch: options.watchDirs,
      file: options.configFile,
      socket: options.socketPath,
      debounce_ms: options.debounceMs,
      resync_secs: options.resyncSecs,
      retry_failed_secs: options.retryFailedSecs,
      listen: status ? `${status.address.address}:${status.address.port}` : undefined,
    },
    `watching ${options.watchDirs.join(', ')} for ${options.configFile}`,
  );
  reconciler.trigger('startup');

  const stop = await Promise.race([stopSignal, refused]);
  if (typeof stop === 'string') logger.info({ event: 'shutdown', signal: stop }, 'stopping');
  else logger.fatal({ event: 'admin_socket_refused', code: stop.code, owner_uid: stop.ownerUid, err: stop.message }, stop.message);
  clearInterval(resync);
  await watcher.close();
  await withinGrace(reconciler.stop());
  await withinGrace(events.idle());
  await status?.close();
  logger.info({ event: 'reloader_stopped' }, 'stopped');
  // Exit here rather than let the event loop run dry: on that natural exit Node closes its
  // signal handlers during teardown, and a SIGTERM arriving then (runtimes repeat it; podman
  // stop does) ends the process by signal instead of with this code (issue 12 item 5).
  await flushLogs(EXIT_LOG_FLUSH_MS);
  process.exit(typeof stop === 'string' ? EXIT_OK : EXIT_SOCKET_REFUSED);
}

/** Entry point of `reverse-proxy reloader`; resolves with the process exit code. */
export async function reloaderMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(usage());
    return EXIT_OK;
  }
  let options: ReloaderOptions;
  try {
    options = parseReloaderOptions(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`reverse-proxy reloader: ${err.message}\nRun "reverse-proxy reloader --help" for the flags.\n`);
    return EXIT_USAGE;
  }
  return run(options, createLogger({ level: options.logLevel, component: 'reloader' }));
}
