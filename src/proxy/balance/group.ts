// An upstream group as a worker balances it: primaries first, backups only while no primary is
// usable, and when every usable server is merely ejected after a failed connect, one of those
// anyway (a server that failed a connect beats no server). A server down by its health check or
// set to drain/maint is never picked: with none left, the caller answers 503.
import type { BalanceMethod } from '../../config/routes-schema.ts';
import { now as clockNow } from '../read-clock.ts';
import { HashRing } from './hash-ring.ts';
import { hashKeyReader, type HashKeyReader } from './hash-key.ts';
import { pickLeastConn } from './least-conn.ts';
import { pickRandomTwo } from './random-two.ts';
import type { UpstreamServer } from './server.ts';
import { pickSmooth } from './smooth-wrr.ts';

export interface GroupSpec {
  name: string;
  servers: readonly UpstreamServer[];
  balance: BalanceMethod;
  /** For `hash`: client_ip | header:<name> | cookie:<name>. */
  hashKey?: string | undefined;
}

/** What a pick may look at: the key hashing balances on, and the servers already tried. */
export interface PickRequest {
  remote: string;
  rawHeaders: readonly string[];
  tried: readonly UpstreamServer[] | undefined;
}

class Tier {
  readonly servers: readonly UpstreamServer[];
  readonly #balance: BalanceMethod;
  readonly #ring: HashRing | undefined;
  readonly #scratch: UpstreamServer[] = [];

  constructor(servers: readonly UpstreamServer[], balance: BalanceMethod) {
    this.servers = servers;
    this.#balance = balance;
    this.#ring = balance === 'hash' ? new HashRing(servers) : undefined;
  }

  pick(now: number, tried: readonly UpstreamServer[] | undefined, key: string | undefined): UpstreamServer | undefined {
    switch (this.#balance) {
      case 'least_conn':
        return pickLeastConn(this.servers, now, tried, this.#scratch);
      case 'random_two':
        return pickRandomTwo(this.servers, now, tried, this.#scratch);
      case 'hash':
        // No key (the header or cookie is missing): round-robin, as HAProxy does.
        if (key === undefined) return pickSmooth(this.servers, now, tried);
        return this.#anyUsable(now, tried) ? (this.#ring as HashRing).pick(key, now, tried) : undefined;
      case 'round_robin':
        return pickSmooth(this.servers, now, tried);
    }
  }

  /** Checked before a ring walk, which would otherwise visit every point to find nothing. */
  #anyUsable(now: number, tried: readonly UpstreamServer[] | undefined): boolean {
    for (const server of this.servers) if (server.usable(now, tried)) return true;
    return false;
  }
}

export class ServerGroup {
  readonly name: string;
  readonly servers: readonly UpstreamServer[];
  readonly #primary: Tier;
  readonly #backup: Tier | undefined;
  readonly #hashKey: HashKeyReader | undefined;

  constructor(spec: GroupSpec) {
    this.name = spec.name;
    this.servers = spec.servers;
    this.#primary = new Tier(spec.servers.filter((s) => !s.backup), spec.balance);
    const backups = spec.servers.filter((s) => s.backup);
    this.#backup = backups.length > 0 ? new Tier(backups, spec.balance) : undefined;
    this.#hashKey = spec.balance === 'hash' ? hashKeyReader(spec.hashKey ?? 'client_ip') : undefined;
  }

  /** The server for this request, or undefined when none is up (→ 503). */
  pick(request: PickRequest, now: number = clockNow()): UpstreamServer | undefined {
    const key = this.#hashKey?.(request.remote, request.rawHeaders);
    const { tried } = request;
    return (
      this.#primary.pick(now, tried, key) ??
      this.#backup?.pick(now, tried, key) ??
      this.#primary.pick(Infinity, tried, key) ??
      this.#backup?.pick(Infinity, tried, key)
    );
  }

  find(origin: string): UpstreamServer | undefined {
    return this.servers.find((s) => s.origin === origin);
  }
}
