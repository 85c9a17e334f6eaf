// The power of two random choices: draw two different usable servers at random (by weight) and
// send the request to the one with fewer in flight per unit of weight. Nearly as even as
// least_conn, without every worker herding onto the same least-loaded server.
import type { UpstreamServer } from './server.ts';

function drawByWeight(candidates: readonly UpstreamServer[], totalWeight: number, skip: UpstreamServer | undefined): UpstreamServer {
  let ticket = Math.random() * totalWeight;
  for (const server of candidates) {
    if (server === skip) continue;
    ticket -= server.weight;
    if (ticket < 0) return server;
  }
  // Rounding can leave a sliver of the ticket: the last candidate takes it.
  return candidates[candidates.length - 1] === skip ? (candidates[candidates.length - 2] as UpstreamServer) : (candidates[candidates.length - 1] as UpstreamServer);
}

export function pickRandomTwo(servers: readonly UpstreamServer[], now: number, tried: readonly UpstreamServer[] | undefined, scratch: UpstreamServer[]): UpstreamServer | undefined {
  scratch.length = 0;
  let total = 0;
  for (const server of servers) {
    if (!server.usable(now, tried)) continue;
    scratch.push(server);
    total += server.weight;
  }
  if (scratch.length <= 1) return scratch[0];
  const first = drawByWeight(scratch, total, undefined);
  const second = drawByWeight(scratch, total - first.weight, first);
  return second.active * first.weight < first.active * second.weight ? second : first;
}
