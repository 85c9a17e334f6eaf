// Default paths and timeouts, in a module of their own so that light commands (ctl, the
// readiness probe) and the worker's data path can use them without loading the schema and zod.

export const DEFAULT_ADMIN_SOCKET_PATH = '/run/reverse-proxy/admin.sock';
export const DEFAULT_CONFIG_PATH = '/etc/reverse-proxy/config.toml';

/** Defaults of the static client timeouts (docs/config.md), nginx's names and about its values. */
export const DEFAULT_CLIENT_HEADER_TIMEOUT_SECS = 10;
export const DEFAULT_CLIENT_BODY_TIMEOUT_SECS = 60;
export const DEFAULT_KEEPALIVE_TIMEOUT_SECS = 60;

/** Default cap on connections one worker opens to one upstream (site key `max_connections`). */
export const DEFAULT_MAX_UPSTREAM_CONNECTIONS = 256;
