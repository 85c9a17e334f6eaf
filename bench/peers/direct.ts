// The ceiling: wrk straight at the upstream, no proxy in between.
import type { Peer } from './types.ts';
import type { Child } from '../child.ts';

export function directPeer(upstream: Child): Peer {
  return {
    id: 'direct',
    label: 'direct to upstream (ceiling)',
    family: 'ceiling',
    // The upstream is shared by every system and outlives this "start", so stop() is a no-op.
    start: async ({ upstreamPort }) => ({ port: upstreamPort, rootPid: upstream.pid, stop: async () => {} }),
  };
}
