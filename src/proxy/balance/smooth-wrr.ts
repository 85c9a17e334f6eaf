// nginx's smooth weighted round-robin: every pick adds each usable server's weight to its
// running value, takes the largest, and subtracts the total from the winner. Weights 5:1:1 give
// a a b a c a a — the heavy server's share without bursts of it.
import type { UpstreamServer } from './server.ts';

export function pickSmooth(servers: readonly UpstreamServer[], now: number, tried: readonly UpstreamServer[] | undefined): UpstreamServer | undefined {
  let best: UpstreamServer | undefined;
  let total = 0;
  for (const server of servers) {
    if (!server.usable(now, tried)) continue;
    server.currentWeight += server.weight;
    total += server.weight;
    if (best === undefined || server.currentWeight > best.currentWeight) best = server;
  }
  if (best !== undefined) best.currentWeight -= total;
  return best;
}
