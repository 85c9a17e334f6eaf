// The pod's one set of active health checks, run by the master: a probe per server of every
// group with a `health_check`, the operator's `set server` states, and the table `show servers`
// prints. Workers are told of every change (the master broadcasts `snapshot()`), so a pod with
// N workers still sends one check per interval to each server, not N.
import type { ServerRow } from '../../admin/backend.ts';
import type { NamedGroup, ServerAdminState, ServerState } from '../../config/upstream-groups.ts';
import type { Logger } from '../../log.ts';
import type { UpstreamTls } from '../../proxy/pools.ts';
import { HealthProbe } from './probe.ts';

const keyOf = (group: string, url: string) => `${group} ${url}`;

interface Entry {
  group: string;
  url: string;
  weight: number;
  backup: boolean;
  admin: ServerAdminState;
  probe: HealthProbe | undefined;
}

export class HealthChecker {
  readonly #logger: Logger;
  readonly #onChange: () => void;
  #entries = new Map<string, Entry>();

  /** `onChange`: a server's health or admin state changed, or a reconcile reset them. */
  constructor(logger: Logger, onChange: () => void) {
    this.#logger = logger;
    this.#onChange = onChange;
  }

  /**
   * Takes the groups of a new generation. A server whose group and check are unchanged keeps
   * its probe and its health; every `set server` state is back to ready, as after an HAProxy
   * reload without a state file.
   */
  reconcile(groups: readonly NamedGroup[], caFiles: Readonly<Record<string, string>>): void {
    const next = new Map<string, Entry>();
    for (const group of groups) {
      const tls: UpstreamTls = { ca: group.tls_ca_file === undefined ? undefined : caFiles[group.tls_ca_file], servername: group.tls_servername, verify: group.tls_verify };
      for (const server of group.servers) {
        const key = keyOf(group.name, server.url);
        const previous = this.#entries.get(key);
        let probe: HealthProbe | undefined;
        if (group.health_check !== undefined) {
          const same = previous?.probe !== undefined && JSON.stringify([previous.probe.check, previous.probe.tls]) === JSON.stringify([group.health_check, tls]);
          probe = same ? previous.probe : this.#startProbe(group.name, server.url, group.health_check, tls);
        }
        next.set(key, { group: group.name, url: server.url, weight: server.weight, backup: server.backup, admin: 'ready', probe });
      }
    }
    for (const [key, entry] of this.#entries) if (entry.probe !== undefined && next.get(key)?.probe !== entry.probe) entry.probe.stop();
    this.#entries = next;
    // Admin states are back to ready: workers hear it before they get the new generation.
    this.#onChange();
  }

  #startProbe(group: string, url: string, check: NonNullable<NamedGroup['health_check']>, tls: UpstreamTls): HealthProbe {
    const probe = new HealthProbe(url, check, tls, ({ state, result, streak }) => {
      const fields = { event: 'server_health', group, server: url, state, check: result.detail, streak };
      if (state === 'down') this.#logger.warn(fields, `server ${group}/${url} is down after ${streak} failed checks (last: ${result.detail})`);
      else this.#logger.info(fields, `server ${group}/${url} is up after ${streak} passed checks`);
      this.#onChange();
    });
    probe.start();
    return probe;
  }

  /** `set server <group>/<url> state …`: an error message, or undefined once it is applied. */
  setAdminState(group: string, url: string, state: ServerAdminState): string | undefined {
    const entry = this.#entries.get(keyOf(group, url));
    if (entry === undefined) {
      const known = [...this.#entries.values()].some((e) => e.group === group);
      return known ? `no server ${url} in group "${group}"` : `no upstream group "${group}"`;
    }
    if (entry.admin === state) return undefined;
    this.#logger.info({ event: 'server_admin_state', group, server: url, state, previous: entry.admin }, `server ${group}/${url} set to ${state}`);
    entry.admin = state;
    this.#onChange();
    return undefined;
  }

  /** What `show servers` prints, in config order, but for the workers' connection counts. */
  rows(): Omit<ServerRow, 'active'>[] {
    return [...this.#entries.values()].map((e) => {
      const last = e.probe?.last;
      return {
        group: e.group,
        url: e.url,
        weight: e.weight,
        backup: e.backup,
        health: e.probe?.state ?? 'up',
        admin: e.admin,
        lastCheck: last === undefined ? undefined : `${last.ok ? 'ok' : 'fail'}:${last.detail}`,
        lastCheckAt: last?.at,
      };
    });
  }

  /** Every server that is not plainly up and ready: what workers need to balance. */
  snapshot(): ServerState[] {
    const states: ServerState[] = [];
    for (const e of this.#entries.values()) {
      const health = e.probe?.state ?? 'up';
      if (health !== 'up' || e.admin !== 'ready') states.push({ group: e.group, url: e.url, health, admin: e.admin });
    }
    return states;
  }

  stop(): void {
    for (const entry of this.#entries.values()) entry.probe?.stop();
    this.#entries.clear();
  }
}
