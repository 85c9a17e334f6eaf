// Least connections, weighted: the usable server with the fewest requests in flight per unit
// of weight; among equals, smooth weighted round-robin, as nginx's least_conn does.
import type { UpstreamServer } from './server.ts';
import { pickSmooth } from './smooth-wrr.ts';

export function pickLeastConn(servers: readonly UpstreamServer[], now: number, tried: readonly UpstreamServer[] | undefined, scratch: UpstreamServer[]): UpstreamServer | undefined {
  scratch.length = 0;
  let least: UpstreamServer | undefined;
  for (const server of servers) {
    if (!server.usable(now, tried)) continue;
    // a.active / a.weight < b.active / b.weight, without dividing.
    const order = least === undefined ? -1 : server.active * least.weight - least.active * server.weight;
    if (order < 0) {
      least = server;
      scratch.length = 0;
    }
    if (order <= 0) scratch.push(server);
  }
  if (scratch.length <= 1) return least;
  return pickSmooth(scratch, now, tried);
}
