// The master's own listeners: the admin sockets and the metrics endpoint. Either one failing to
// start is logged and skipped, never fatal: traffic matters more than the admin socket or the
// metrics, and a pod that refused to serve over them would fail for the wrong reason.
import type { MasterBackend } from '../admin/backend.ts';
import { startAdminSocket, type AdminSocket } from '../admin/server.ts';
import type { AdminLevel, Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import { startMetricsListener, type MetricsListener } from '../metrics/listener.ts';
import { publicMessage } from './public-message.ts';

/** Every admin socket the config names (`admin_socket_path` first), those that could start. */
export async function startAdminSockets(config: Config, backend: MasterBackend, logger: Logger): Promise<AdminSocket[]> {
  const wanted: { path: string; mode: number; level: AdminLevel }[] = [];
  if (config.admin_socket_path !== '') wanted.push({ path: config.admin_socket_path, mode: config.admin_socket_mode, level: 'admin' });
  wanted.push(...config.admin_sockets);
  const started: AdminSocket[] = [];
  for (const spec of wanted) {
    try {
      const socket = await startAdminSocket({ ...spec, backend, logger });
      if (socket) started.push(socket);
    } catch (err) {
      logger.error({ event: 'admin_socket_failed', path: spec.path, message: publicMessage(err, logger) }, `admin socket ${spec.path} not started`);
    }
  }
  return started;
}

/** The `[metrics]` endpoint, or undefined when the config has none or it could not start. */
export async function startMetricsEndpoint(config: Config['metrics'], scrape: () => Promise<string>, logger: Logger): Promise<MetricsListener | undefined> {
  if (config === undefined) return undefined;
  try {
    return await startMetricsListener(config, scrape, (err) => logger.warn({ event: 'metrics_scrape_failed', message: err.message }, `metrics scrape failed: ${err.message}`));
  } catch (err) {
    logger.error({ event: 'metrics_listener_failed', address: config.address, port: config.port, message: (err as Error).message }, 'metrics listener not started');
    return undefined;
  }
}
