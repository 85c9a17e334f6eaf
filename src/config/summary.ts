// A one-line description of a valid config, as `check` prints it.
import type { Config } from './schema.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summarize(config: Config): string {
  const listeners = config.listeners.map((l) => `${l.tls ? 'https' : 'http'}://${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`);
  const sockets = (config.admin_socket_path === '' ? 0 : 1) + config.admin_sockets.length;
  const routes = config.sites.reduce((n, site) => n + site.routes.length, 0);
  // Groups and routes are named only when the file has them, so a plain config reads as before.
  const extras = [config.upstreams.length ? `, ${plural(config.upstreams.length, 'upstream group')}` : '', routes ? `, ${plural(routes, 'route')}` : ''].join('');
  return `${plural(config.sites.length, 'site')}${extras}, ${plural(config.listeners.length, 'listener')} (${listeners.join(', ')}), workers ${config.workers}, ${plural(sockets, 'admin socket')}`;
}
