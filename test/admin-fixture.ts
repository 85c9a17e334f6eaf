// Test stand-ins for the runtime behind an admin socket: a master with real state (uptime,
// sites, workers, reload counters) and workers that answer through the real runWorkerCommand.
// They replace the runtime, never the socket or the filesystem.
import { Writable } from 'node:stream';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { CertificateRow, InfoFields, MasterBackend, ProcessRow, ReloadOutcome, ServerRow, SocketRow, StatusOutcome, Target, WorkerBackend } from '../src/admin/backend.ts';
import { runWorkerCommand } from '../src/admin/worker-commands.ts';
import { startAdminSocket, type AdminSocket } from '../src/admin/server.ts';
import type { AdminLevel } from '../src/config/schema.ts';
import type { ServerAdminState } from '../src/config/upstream-groups.ts';
import type { AdminLimits } from '../src/admin/limits.ts';
import { FiguresAggregator, type AggregatedView } from '../src/metrics/aggregator.ts';

/** No traffic behind the stand-ins: only the always-present unrouted row. */
function noTraffic(): AggregatedView {
  return new FiguresAggregator().view([], new Set());
}

export const VERSION = '0.1.0-test';

class TestWorker implements WorkerBackend {
  pid: number;
  relativePid: number;
  generation = 1;
  startedAt = Date.now();
  respawns = 0;
  respawningInMs: number | undefined;
  #master: TestMaster;
  constructor(master: TestMaster, pid: number, relativePid: number) {
    this.#master = master;
    this.pid = pid;
    this.relativePid = relativePid;
  }
  status(): StatusOutcome {
    return { ok: true, uptimeSecs: (Date.now() - this.startedAt) / 1000, sites: this.#master.sites.length };
  }
  info(): InfoFields {
    const master = this.#master.info();
    return {
      name: master.name,
      version: master.version,
      pid: this.pid,
      relative_pid: this.relativePid,
      process_type: 'worker',
      uptime_sec: Math.floor((Date.now() - this.startedAt) / 1000),
      config_sha256: master.config_sha256,
      generation: this.generation,
      sites: master.sites,
      reloads: this.generation - 1,
      reloads_failed: 0,
      draining: false,
      active_connections: 0,
      active_requests: 0,
    };
  }
  stat(): AggregatedView {
    return noTraffic();
  }
  sites(): string[] {
    return this.#master.sites.map((s) => `${s} -> http://127.0.0.1:9000`);
  }
}

/** A master whose answers come from state the test changes: sites, draining, reload results. */
export class TestMaster implements MasterBackend {
  startedAt = Date.now() - 62_000;
  /** Fixed, so replies can be compared byte for byte; the fraction checks it is floored. */
  uptimeSecs = 62.7;
  sites = ['example.com', '*.example.org'];
  draining = false;
  reloads = 0;
  reloadsFailed = 0;
  /** The message the next reloads fail with, or warnings they succeed with. */
  nextReload: ReloadOutcome = { ok: true, warnings: [] };
  /** Resolved by the test to let a pending reload finish, when set. */
  reloadGate: Promise<void> | undefined;
  reloadCalls = 0;
  restartCalls = 0;
  workers: TestWorker[];
  socketRows: SocketRow[] = [];
  constructor(workerCount = 2) {
    this.workers = Array.from({ length: workerCount }, (_, i) => new TestWorker(this, 900_001 + i, i + 1));
  }
  async reload(): Promise<ReloadOutcome> {
    this.reloadCalls++;
    await this.reloadGate;
    if (this.nextReload.ok) {
      this.reloads++;
      for (const w of this.workers) w.generation++;
    } else this.reloadsFailed++;
    return this.nextReload;
  }
  async restart(): Promise<ReloadOutcome> {
    this.restartCalls++;
    return { ok: true, warnings: [] };
  }
  status(): StatusOutcome {
    if (this.draining) return { ok: false, message: 'shutting down' };
    return { ok: true, uptimeSecs: this.uptimeSecs, sites: this.sites.length };
  }
  info(): InfoFields {
    return {
      name: 'reverse-proxy',
      version: VERSION,
      pid: process.pid,
      relative_pid: 0,
      process_type: 'master',
      uptime_sec: Math.floor((Date.now() - this.startedAt) / 1000),
      config_file: '/etc/reverse-proxy/config.toml',
      config_sha256: 'a'.repeat(64),
      generation: this.reloads + 1,
      sites: this.sites.length,
      workers: this.workers.length,
      reloads: this.reloads,
      reloads_failed: this.reloadsFailed,
      last_reload: null,
      last_reload_result: null,
      last_reload_message: null,
    };
  }
  processes(): ProcessRow[] {
    return [
      { pid: process.pid, type: 'master', relativePid: 0, reloads: this.reloads, startedAt: this.startedAt, version: VERSION, respawns: 0 },
      ...this.workers.map((w) => ({
        pid: w.respawningInMs === undefined ? w.pid : 0,
        type: 'worker' as const,
        relativePid: w.relativePid,
        reloads: w.generation - 1,
        startedAt: w.startedAt,
        version: VERSION,
        respawns: w.respawns,
        ...(w.respawningInMs === undefined ? {} : { respawningInMs: w.respawningInMs }),
      })),
    ];
  }
  sockets(): SocketRow[] {
    return this.socketRows;
  }
  async stat(): Promise<AggregatedView> {
    return noTraffic();
  }
  serverRows: ServerRow[] = [];
  async servers(): Promise<ServerRow[]> {
    return this.serverRows;
  }
  setServerState(group: string, url: string, state: ServerAdminState): string | undefined {
    const row = this.serverRows.find((r) => r.group === group && r.url === url);
    if (row === undefined) return `no server ${url} in group "${group}"`;
    row.admin = state;
    return undefined;
  }
  certificates(): CertificateRow[] {
    return [];
  }
  async sendToWorker(target: Exclude<Target, { kind: 'master' }>, command: string): Promise<string> {
    const worker = this.workers.find((w) => (target.kind === 'relative' ? w.relativePid === target.relativePid : w.pid === target.pid));
    if (worker === undefined) throw new Error('test backend: no such worker');
    return runWorkerCommand(command, worker);
  }
}

/** A logger whose JSON lines the test can read back. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rp-admin-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestSocket {
  path: string;
  dir: string;
  backend: TestMaster;
  socket: AdminSocket;
  logs: () => Record<string, unknown>[];
  close: () => Promise<void>;
}

export async function startTestSocket(options: { level?: AdminLevel; mode?: number; backend?: TestMaster; limits?: Partial<AdminLimits> } = {}): Promise<TestSocket> {
  const { dir, remove } = await tempDir();
  const path = join(dir, 'admin.sock');
  const backend = options.backend ?? new TestMaster();
  const { logger, lines } = capturingLogger();
  const level = options.level ?? 'admin';
  const mode = options.mode ?? 0o660;
  const socket = await startAdminSocket({ path, mode, level, backend, logger, ...(options.limits ? { limits: options.limits } : {}) });
  if (socket === undefined) throw new Error('test socket unexpectedly in use');
  backend.socketRows = [{ path, level, mode }];
  return {
    path,
    dir,
    backend,
    socket,
    logs: lines,
    close: async () => {
      await socket.close();
      await remove();
    },
  };
}

/**
 * Writes `input` (then half-closes unless keepOpen) and collects everything until the server
 * closes. Rejects if that takes longer than `timeoutMs`.
 */
export function exchange(path: string, input: string | Buffer, options: { keepOpen?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString())}`));
    }, timeoutMs);
    socket.on('connect', () => {
      if (options.keepOpen) socket.write(input);
      else socket.end(input);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      if (chunks.length === 0) {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
