// A group as one generation of a worker uses it: the balancer over its servers, its retry
// policy, and its retry budget. Server records are carried over from the previous generation
// when the group keeps the server, so requests in flight, passive ejection and the round-robin
// position survive a reload; health and admin states come from the master's latest snapshot.
import type { NamedGroup, ServerState } from '../../config/upstream-groups.ts';
import { RETRY_BUDGET_FLOOR } from '../limits.ts';
import type { UpstreamTls } from '../pools.ts';
import { ServerGroup } from './group.ts';
import { UpstreamServer } from './server.ts';

interface RetryPolicy {
  /** Sends after the first one, at most. */
  readonly attempts: number;
  readonly onConnectFailure: boolean;
  readonly onTimeout: boolean;
  /** Upstream statuses that are retried (500, 502, 503, 504). */
  readonly statuses: ReadonlySet<number>;
}

/** Retries in flight may be at most `percent` of the group's requests in flight, and never fewer than RETRY_BUDGET_FLOOR. */
class RetryBudget {
  readonly percent: number;
  /** Requests of this group in flight in this worker, retries included. */
  inFlight = 0;
  /** Of those, the ones that are retries. */
  retrying = 0;

  constructor(percent: number) {
    this.percent = percent;
  }

  allows(): boolean {
    return this.retrying < Math.max(RETRY_BUDGET_FLOOR, Math.floor((this.inFlight * this.percent) / 100));
  }
}

export interface CompiledGroup {
  readonly name: string;
  readonly balancer: ServerGroup;
  readonly retries: RetryPolicy;
  readonly budget: RetryBudget;
  /** How its `https://` servers are reached (the group's `tls_*` keys; a site's own URLs, the site's). */
  readonly tls: UpstreamTls;
  /** The config it was compiled from: that very object again, with the same CA text, keeps it as it is. */
  readonly config: NamedGroup;
  /** Everything it was compiled from: a group whose config has the same signature is kept as it is. */
  readonly signature: string;
}

const serverKey = (group: string, origin: string) => `${group} ${origin}`;

export type ServerStates = ReadonlyMap<string, ServerState>;

export function serverStates(states: readonly ServerState[]): ServerStates {
  return new Map(states.map((s) => [serverKey(s.group, s.url), s]));
}

/** Sets every server of `groups` to what `states` says, up and ready when it says nothing. */
export function applyServerStates(groups: Iterable<CompiledGroup>, states: ServerStates): void {
  for (const group of groups) {
    for (const server of group.balancer.servers) {
      const state = states.get(serverKey(group.name, server.origin));
      server.health = state?.health ?? 'up';
      server.admin = state?.admin ?? 'ready';
    }
  }
}

/** Everything a group is compiled from. */
const signatureOf = (config: NamedGroup, tls: UpstreamTls) => JSON.stringify([config.servers, config.balance, config.hash_key, config.retries, tls]);

/** `caFiles`: the PEM text of every `tls_ca_file`, by path, as the master read it. */
export function compileGroups(groups: readonly NamedGroup[], previous: ReadonlyMap<string, CompiledGroup> | undefined, states: ServerStates, caFiles: Readonly<Record<string, string>>): Map<string, CompiledGroup> {
  const compiled = new Map<string, CompiledGroup>();
  for (const config of groups) {
    const tls: UpstreamTls = { ca: config.tls_ca_file === undefined ? undefined : caFiles[config.tls_ca_file], servername: config.tls_servername, verify: config.tls_verify };
    const old = previous?.get(config.name);
    // The same group keeps its balancer and budget, so the compiled sites that use it can be kept too.
    // Of the very config object it was compiled from (namedGroups), only the CA file's text can have changed.
    if (old !== undefined && (old.config === config ? old.tls.ca === tls.ca : old.signature === signatureOf(config, tls))) {
      compiled.set(config.name, old);
      continue;
    }
    const kept = new Map((old?.balancer.servers ?? []).map((s) => [s.origin, s]));
    const servers = config.servers.map((s) => {
      const server = kept.get(s.url);
      return server !== undefined && server.weight === s.weight && server.backup === s.backup ? server : new UpstreamServer(s.url, s.weight, s.backup);
    });
    const on = new Set(config.retries.on);
    compiled.set(config.name, {
      name: config.name,
      balancer: new ServerGroup({ name: config.name, servers, balance: config.balance, hashKey: config.hash_key }),
      retries: {
        attempts: config.retries.attempts,
        onConnectFailure: on.has('connect_failure'),
        onTimeout: on.has('timeout'),
        statuses: new Set([...on].filter((c) => /^\d+$/.test(c)).map(Number)),
      },
      budget: new RetryBudget(config.retries.budget_percent),
      tls,
      config,
      signature: signatureOf(config, tls),
    });
  }
  applyServerStates(compiled.values(), states);
  return compiled;
}
