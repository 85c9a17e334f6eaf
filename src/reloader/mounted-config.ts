// Reads the content hash of the mounted config (the file and the certificates and keys it
// names: the same hash the proxy reports). A file that cannot be read is counted every time
// but logged once per distinct problem, since a missing file is re-checked on every resync.
import { mountedContent } from '../config/content-hash.ts';
import type { ReverseProxyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { errorText } from './error-text.ts';
import type { ReloaderMetrics } from './metrics.ts';

export class MountedConfig {
  readonly #configFile: string;
  readonly #logger: Logger;
  readonly #metrics: ReloaderMetrics;
  readonly #onReferencedDirs: ((dirs: string[]) => Promise<void>) | undefined;
  #readProblem: string | undefined;

  constructor(configFile: string, logger: Logger, metrics: ReloaderMetrics, onReferencedDirs?: (dirs: string[]) => Promise<void>) {
    this.#configFile = configFile;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#onReferencedDirs = onReferencedDirs;
  }

  /** The mounted content hash, or undefined (logged, counted) when it cannot be read. */
  async hash(): Promise<string | undefined> {
    const configFile = this.#configFile;
    try {
      const { sha256: sha, dirs } = await mountedContent(configFile);
      await this.#onReferencedDirs?.(dirs);
      if (this.#readProblem !== undefined) this.#logger.info({ event: 'config_readable', file: configFile }, 'config file is readable again');
      this.#readProblem = undefined;
      return sha;
    } catch (err) {
      this.#metrics.configReadErrors++;
      const problem = errorText(err);
      if (problem !== this.#readProblem) {
        this.#logger.warn({ event: 'config_unreadable', file: configFile, code: (err as ReverseProxyError).code, err: problem }, `cannot read the config file: ${problem}`);
      }
      this.#readProblem = problem;
      return undefined;
    }
  }
}
