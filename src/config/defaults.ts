// Default paths, in a module of their own so that light commands (ctl, the readiness probe)
// can use them without loading the config schema and zod.

export const DEFAULT_ADMIN_SOCKET_PATH = '/run/reverse-proxy/admin.sock';
export const DEFAULT_CONFIG_PATH = '/etc/reverse-proxy/config.toml';
