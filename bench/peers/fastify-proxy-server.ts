// @fastify/http-proxy peer process: Fastify with reply-from over undici (its default), the
// upstream chosen per request by Host through `getUpstream`.
import Fastify from 'fastify';
import fastifyHttpProxy from '@fastify/http-proxy';
import { routingTable, runClustered } from './node-cluster.ts';

runClustered((settings) => {
  const route = routingTable(settings);
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, keepAliveTimeout: 120_000 });
  void app.register(fastifyHttpProxy, {
    upstream: settings.upstream,
    replyOptions: { getUpstream: (request) => route(request.headers.host) },
  });
  void app.listen({ port: settings.port, host: '127.0.0.1' });
});
