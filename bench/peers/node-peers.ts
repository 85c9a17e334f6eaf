// The two Node peers, each a clustered script next to this file.
import { startNodePeer } from './node-cluster.ts';
import type { Peer } from './types.ts';

export const httpProxyPeer: Peer = {
  id: 'http-proxy',
  label: 'node-http-proxy',
  family: 'node',
  start: (o) => startNodePeer('http-proxy-server.ts', o),
};

export const fastifyProxyPeer: Peer = {
  id: 'fastify-proxy',
  label: '@fastify/http-proxy',
  family: 'node',
  start: (o) => startNodePeer('fastify-proxy-server.ts', o),
};
