// One server's active health check: `GET <path>` every interval, a verdict per answer, and the
// rise/fall counting that turns verdicts into the server's state (HAProxy's model: `fall`
// failures in a row take it out, `rise` successes in a row bring it back; it starts in).
import { isIP } from 'node:net';
import type { HealthCheckConfig } from '../../config/routes-schema.ts';
import type { UpstreamTls } from '../../proxy/pools.ts';
import type { Pool } from 'undici';

interface CheckResult {
  ok: boolean;
  /** `200`, `503`, `timeout`, `refused`…: one word, as `show servers` prints it. */
  detail: string;
  at: Date;
}

interface ProbeTransition {
  state: 'up' | 'down';
  result: CheckResult;
  /** The run of results in a row that made the change. */
  streak: number;
}

/** undici (its index, which gives Pool its `request` API) is loaded only by a master that has checks to run. */
let poolClass: Promise<typeof Pool> | undefined;
const loadPool = () => (poolClass ??= import('undici').then((m) => m.Pool));

function describeFailure(err: unknown): string {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ABORT_ERR':
    case 'UND_ERR_ABORTED':
      return 'timeout';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'reset';
    default:
      return (err as Error).name === 'TimeoutError' ? 'timeout' : 'error';
  }
}

export class HealthProbe {
  readonly url: string;
  readonly check: HealthCheckConfig;
  /** The group's `tls_*` settings: a check reaches an https server the way traffic does. */
  readonly tls: UpstreamTls;
  state: 'up' | 'down' = 'up';
  last: CheckResult | undefined;
  #streak = 0;
  #pool: Pool | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #onTransition: (t: ProbeTransition) => void;

  constructor(url: string, check: HealthCheckConfig, tls: UpstreamTls, onTransition: (t: ProbeTransition) => void) {
    this.url = url;
    this.check = check;
    this.tls = tls;
    this.#onTransition = onTransition;
  }

  /** The first check runs at once, so a server that is down at start is found within `fall` intervals. */
  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    void this.#pool?.destroy().catch(() => undefined);
  }

  async #run(): Promise<void> {
    const result = await this.#checkOnce();
    if (this.#stopped) return;
    this.last = result;
    this.#count(result);
    this.#timer = setTimeout(() => void this.#run(), this.check.interval_secs * 1000);
    // Checks never keep the master alive on their own.
    this.#timer.unref();
  }

  async #checkOnce(): Promise<CheckResult> {
    const timeoutMs = this.check.timeout_secs * 1000;
    try {
      const PoolClass = await loadPool();
      this.#pool ??= new PoolClass(this.url, { connections: 1, keepAliveTimeout: this.check.interval_secs * 2000, connect: this.#connectOptions(timeoutMs) });
      const response = await this.#pool.request({
        path: this.check.path,
        method: 'GET',
        headers: { host: new URL(this.url).host, 'user-agent': 'reverse-proxy-health-check' },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      const ok = this.check.expect_status.some(([low, high]) => response.statusCode >= low && response.statusCode <= high);
      return { ok, detail: String(response.statusCode), at: new Date() };
    } catch (err) {
      return { ok: false, detail: describeFailure(err), at: new Date() };
    }
  }

  /** As the workers connect (http1/upstream-pool.ts): the CA, name and verification the group sets. */
  #connectOptions(timeoutMs: number) {
    const name = this.tls.servername ?? new URL(this.url).hostname.replace(/^\[|\]$/g, '');
    return { timeout: timeoutMs, ca: this.tls.ca, rejectUnauthorized: this.tls.verify, servername: isIP(name) === 0 ? name : undefined };
  }

  #count(result: CheckResult): void {
    // Up, only failures count towards a change; down, only successes.
    const changing = this.state === 'down';
    if (result.ok !== changing) {
      this.#streak = 0;
      return;
    }
    this.#streak++;
    const needed = this.state === 'up' ? this.check.fall : this.check.rise;
    if (this.#streak < needed) return;
    this.state = this.state === 'up' ? 'down' : 'up';
    const streak = this.#streak;
    this.#streak = 0;
    this.#onTransition({ state: this.state, result, streak });
  }
}
