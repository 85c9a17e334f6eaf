// This project's proxy as a system under test in the side-by-side runs (see our-instance.ts
// for how it is configured and started).
import { startOurInstance } from '../our-instance.ts';
import type { Peer } from './types.ts';

export const reverseProxyPeer: Peer = {
  id: 'reverse-proxy',
  label: 'reverse-proxy (this project)',
  family: 'ours',
  start: async (o) => (await startOurInstance(o.workDir, { workers: o.workers, upstreamPort: o.upstreamPort, hosts: o.hosts, accessLog: o.accessLog })).system,
};
