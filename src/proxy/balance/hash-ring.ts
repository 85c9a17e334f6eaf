// Consistent hashing on a ring (ketama): each server owns POINTS_PER_WEIGHT × weight points
// placed by hashing its origin, and a key belongs to the first point at or after its own hash.
// A server that is down, drained or removed gives up only its own points: every other key keeps
// its server. A request retried after a failure walks on to the next server along the ring.
import type { UpstreamServer } from './server.ts';

/** Ring points per unit of weight: enough for an even split of keys across a few servers. */
const POINTS_PER_WEIGHT = 100;

/** 32-bit FNV-1a followed by murmur3's finalizer, which spreads FNV's weak low bits. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashRing {
  readonly #points: Uint32Array;
  readonly #owners: UpstreamServer[];

  constructor(servers: readonly UpstreamServer[]) {
    const entries: { point: number; server: UpstreamServer }[] = [];
    for (const server of servers) {
      for (let i = 0; i < server.weight * POINTS_PER_WEIGHT; i++) entries.push({ point: hash32(`${server.origin}-${i}`), server });
    }
    // Ties (a 32-bit collision) are broken by origin so every worker builds the same ring.
    entries.sort((a, b) => a.point - b.point || (a.server.origin < b.server.origin ? -1 : 1));
    this.#points = Uint32Array.from(entries, (e) => e.point);
    this.#owners = entries.map((e) => e.server);
  }

  pick(key: string, now: number, tried: readonly UpstreamServer[] | undefined): UpstreamServer | undefined {
    const points = this.#points;
    const count = points.length;
    if (count === 0) return undefined;
    const h = hash32(key);
    let low = 0;
    let high = count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((points[mid] as number) < h) low = mid + 1;
      else high = mid;
    }
    for (let step = 0; step < count; step++) {
      const server = this.#owners[(low + step) % count] as UpstreamServer;
      if (server.usable(now, tried)) return server;
    }
    return undefined;
  }
}
