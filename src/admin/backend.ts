// What the admin socket needs from the process that owns it. The master implements
// MasterBackend (src/runtime/); each worker implements WorkerBackend for commands routed to it
// with `@N`. The admin code only formats and routes; it never reaches into the runtime itself.
import type { LoadedCertificate } from '../config/certificates.ts';
import type { AdminLevel } from '../config/schema.ts';
import type { AggregatedView } from '../metrics/aggregator.ts';
import type { ServerAdminState } from '../config/upstream-groups.ts';

export type ReloadOutcome =
  | { ok: true; warnings: string[] }
  | { ok: false; message: string };

export type StatusOutcome =
  | { ok: true; uptimeSecs: number; sites: number }
  | { ok: false; message: string };

export interface ProcessRow {
  pid: number;
  type: 'master' | 'worker';
  relativePid: number;
  /** Master: successful reloads since start. Worker: generations applied since it started. */
  reloads: number;
  /** Epoch milliseconds at which the process started. */
  startedAt: number;
  version: string;
  /** Worker slot only: times this slot was respawned after its worker died. */
  respawns: number;
  /** Set while a dead worker's slot waits out its respawn backoff (pid is then 0). */
  respawningInMs?: number;
  /** Worker slot only, when not 0: workers forked for it that never got listening. */
  failedStarts?: number;
  /** A worker replaced by a restart and not yet exited (relativePid is the slot it held). */
  old?: boolean;
  /** Old workers: the generation they still serve, and how long ago they were told to drain. */
  generation?: number;
  drainingForMs?: number;
}

/** Fields of `show info`, in display order. Keys are the snake_case names of `show info json`. */
export interface InfoFields {
  name: string;
  version: string;
  pid: number;
  relative_pid: number;
  process_type: 'master' | 'worker';
  uptime_sec: number;
  /** Master only: a worker reads no file, it is sent its generation. */
  config_file?: string;
  config_sha256: string;
  generation: number;
  sites: number;
  /** Master only: live workers. */
  workers?: number;
  /** Master: reloads since start. Worker: generations it applied (and failed to) since it started. */
  reloads: number;
  reloads_failed: number;
  /** Master only: ISO-8601 time of the last reload attempt, or null before the first. */
  last_reload?: string | null;
  last_reload_result?: 'ok' | 'failed' | null;
  last_reload_message?: string | null;
  /** Worker only: whether it is draining, and the connections and requests it is serving now. */
  draining?: boolean;
  active_connections?: number;
  active_requests?: number;
}

export interface SocketRow {
  path: string;
  level: AdminLevel;
  mode: number;
}

/** One server of one upstream group, as `show servers` lists it. */
export interface ServerRow {
  group: string;
  url: string;
  weight: number;
  backup: boolean;
  /** From the active health check; `up` when the group has none. */
  health: 'up' | 'down';
  admin: ServerAdminState;
  /** Connections from every worker's pool to this server now (shared by groups that list it). */
  active: number;
  /** `ok:200`, `fail:503`, `fail:timeout`…; undefined without a check or before the first. */
  lastCheck: string | undefined;
  lastCheckAt: Date | undefined;
}

/** One certificate in use, for `show certs` and the expiry metric: all but the PEMs. */
export type CertificateRow = Omit<LoadedCertificate, 'cert' | 'key'>;

/** How a command names the process that should answer it. */
export type Target = { kind: 'master' } | { kind: 'relative'; relativePid: number } | { kind: 'pid'; pid: number };

export interface MasterBackend {
  reload(): Promise<ReloadOutcome>;
  /** Replace workers one at a time so static changes (listeners, worker count) apply. */
  restart(): Promise<ReloadOutcome>;
  status(): StatusOutcome;
  info(): InfoFields;
  processes(): ProcessRow[];
  sockets(): SocketRow[];
  /** Every worker's traffic figures summed, for `show stat`. */
  stat(): Promise<AggregatedView>;
  /** Every server of every upstream group, in config order. */
  servers(): Promise<ServerRow[]>;
  /** `set server`: an error message for the operator, or undefined once applied. */
  setServerState(group: string, url: string, state: ServerAdminState): string | undefined;
  /** The certificates of the running generation, in config order. */
  certificates(): CertificateRow[];
  /** Runs a worker-side command line on one worker and resolves with its text reply. */
  sendToWorker(target: Exclude<Target, { kind: 'master' }>, command: string): Promise<string>;
}

export interface WorkerBackend {
  status(): StatusOutcome;
  info(): InfoFields;
  /** This worker's own traffic figures, for `@N show stat`. */
  stat(): AggregatedView;
  /** The worker's routing table, one line per host pattern, for `show sites`. */
  sites(): string[];
}
