// The config file's shape. Keys are snake_case as written in TOML; defaults live here (the
// default paths in defaults.ts, which light commands import without zod). Static keys need a restart to change; `sites`, `upstreams` and `certificates` are the dynamic part
// that `reload` swaps in.
import * as z from 'zod';
import {
  DEFAULT_ADMIN_SOCKET_PATH,
  DEFAULT_CLIENT_BODY_TIMEOUT_SECS,
  DEFAULT_CLIENT_HEADER_TIMEOUT_SECS,
  DEFAULT_KEEPALIVE_TIMEOUT_SECS,
  DEFAULT_MAX_UPSTREAM_CONNECTIONS,
} from './defaults.ts';
import { bodyLimitBytes, oneOrMany, positiveSeconds, rateLimitSchema, upstreamTlsShape } from './fields.ts';
import { routeSchema, upstreamGroupSchema, upstreamTarget } from './routes-schema.ts';
import { socketPathProblem } from './socket-path.ts';

export { rateLimitSchema } from './fields.ts';

const fileMode = z
  .union([z.string().regex(/^0?[0-7]{3}$/, 'must be an octal mode such as "0660"'), z.number().int()])
  .transform((v) => (typeof v === 'string' ? Number.parseInt(v, 8) : v))
  .refine((v) => v >= 0 && v <= 0o777, 'must be a permission mode between 0000 and 0777');

const hostPattern = z
  .string()
  .min(1, 'must not be empty')
  .transform((h) => h.toLowerCase())
  .refine(
    (h) => /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/.test(h),
    'must be a host name such as "example.com" or "*.example.com" (no port, no scheme)',
  )
  .transform((h) => (h.endsWith('.') ? h.slice(0, -1) : h));

const socketPath = z.string().superRefine((path, ctx) => {
  const problem = path === '' ? undefined : socketPathProblem(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A site's label in metrics and `show stat`; bounded and quotable as is. */
const siteNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const siteSchema = z
  .object({
    name: siteNameSchema.optional(),
    host: oneOrMany(hostPattern).optional(),
    default: z.boolean().default(false),
    upstream: upstreamTarget,
    connect_timeout_secs: positiveSeconds.default(5),
    request_timeout_secs: positiveSeconds.default(60),
    body_limit_bytes: bodyLimitBytes.optional(),
    rate_limit: rateLimitSchema.optional(),
    preserve_host: z.boolean().default(true),
    via: z.boolean().default(false),
    https_redirect: z.boolean().default(false),
    routes: z.array(routeSchema).default([]),
    max_connections: z.number().int().positive('must be a whole number of connections greater than 0').default(DEFAULT_MAX_UPSTREAM_CONNECTIONS),
    ...upstreamTlsShape,
  })
  .strict()
  .refine((s) => s.default || (s.host?.length ?? 0) > 0, { message: 'needs a "host", or "default = true" to catch every other host' });

export const listenerSchema = z
  .object({
    address: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535, 'must be a port between 0 and 65535'),
    /** Serve HTTPS with the `[[certificates]]` of the running generation. */
    tls: z.boolean().default(false),
    /** Shorthand for one `[[certificates]]` entry (and `tls = true`); see tlsShorthand. */
    tls_cert: z.string().min(1).optional(),
    tls_key: z.string().min(1).optional(),
  })
  .strict()
  .refine((l) => (l.tls_cert === undefined) === (l.tls_key === undefined), {
    message: 'TLS needs both "tls_cert" and "tls_key"',
  });

export const certificateSchema = z
  .object({
    /** PEM file: the certificate first, then any intermediates (a kubernetes.io/tls `tls.crt`). */
    cert: z.string().min(1, 'must be a file path'),
    key: z.string().min(1, 'must be a file path'),
    /** Served to clients that send no SNI name, or one no certificate covers. */
    default: z.boolean().default(false),
  })
  .strict();

const ADMIN_LEVELS = ['user', 'operator', 'admin'] as const;
export type AdminLevel = (typeof ADMIN_LEVELS)[number];

export const adminSocketSchema = z
  .object({
    path: socketPath.refine((p) => p !== '', 'must not be empty'),
    level: z.enum(ADMIN_LEVELS, 'must be one of "user", "operator", "admin"').default('user'),
    mode: fileMode.default(0o660),
  })
  .strict();

/** The master's Prometheus listener; off unless the table is present. */
const metricsSchema = z
  .object({
    address: z.string().min(1).default('0.0.0.0'),
    port: z.number().int().min(0).max(65535, 'must be a port between 0 and 65535'),
    path: z.string().regex(/^\/[\x21-\x7e]*$/, 'must be an absolute URL path such as "/metrics"').default('/metrics'),
  })
  .strict();

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The document's tables and keys; configSchema adds the rules across them and the TLS shorthand. */
export const configObject = z
  .object({
    admin_socket_path: socketPath.default(DEFAULT_ADMIN_SOCKET_PATH),
    admin_socket_mode: fileMode.default(0o660),
    admin_sockets: z.array(adminSocketSchema).default([]),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1, 'must be at least 1').max(256, 'must be at most 256')], 'must be a whole number of workers or "auto"')
      .default(1),
    shutdown_timeout_secs: z.number().nonnegative('must be 0 or more seconds').default(30),
    client_header_timeout_secs: positiveSeconds.default(DEFAULT_CLIENT_HEADER_TIMEOUT_SECS),
    client_body_timeout_secs: positiveSeconds.default(DEFAULT_CLIENT_BODY_TIMEOUT_SECS),
    keepalive_timeout_secs: positiveSeconds.default(DEFAULT_KEEPALIVE_TIMEOUT_SECS),
    listeners: z.array(listenerSchema).min(1, 'needs at least one [[listeners]] entry').default([{ address: '0.0.0.0', port: 8080, tls: false }]),
    logging: z
      .object({
        level: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
        access_log: z.boolean().default(true),
      })
      .strict()
      .default({ level: 'info', access_log: true }),
    upstreams: z.array(upstreamGroupSchema).default([]),
    metrics: metricsSchema.optional(),
    /** Header that carries the request ID to the upstream, back to the client and into the access log; "" turns request IDs off. */
    request_id_header: z
      .string()
      .regex(/^([!#$%&'*+.^_`|~0-9A-Za-z-]+)?$/, 'must be an HTTP header name such as "x-request-id", or "" to turn request IDs off')
      .transform((h) => h.toLowerCase())
      .default('x-request-id'),
    sites: z.array(siteSchema).default([]),
    certificates: z.array(certificateSchema).default([]),
  })
  .strict();

// A rule here must not read `sites`: a reload validates the rest of the file without its sites
// (site-cache.ts). Rules across sites belong in validate.ts, which runs on every load.
export const configSchema = configObject
  .superRefine((config, ctx) => {
    const defaults = config.certificates.flatMap((c, i) => (c.default ? [i] : []));
    for (const i of defaults.slice(1)) ctx.addIssue({ code: 'custom', path: ['certificates', i, 'default'], message: `only one certificate can be the default; certificates[${defaults[0]}] already is` });
    config.listeners.forEach((l, i) => {
      if (l.tls && l.tls_cert === undefined && config.certificates.length === 0 && !config.listeners.some((other) => other.tls_cert !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls'], message: 'a TLS listener needs at least one [[certificates]] entry (cert and key files)' });
      }
    });
  })
  .transform(tlsShorthand);

/** Where a certificate's two files were written in the config, for messages that name the key. */
interface CertificateOrigin {
  cert: readonly (string | number)[];
  key: readonly (string | number)[];
}

/**
 * Turns a listener's `tls_cert`/`tls_key` into `tls = true` plus a certificate entry after the
 * `[[certificates]]` ones, so certificates are one dynamic list whatever way they were written,
 * and `listeners` (a static key) never holds file paths a reload re-reads. Without a
 * `default = true` entry the first certificate is the default, as nginx's first server is.
 */
export function tlsShorthand(config: z.output<typeof configObject>) {
  const certificates = config.certificates.map((c, i) => ({ ...c, origin: { cert: ['certificates', i, 'cert'], key: ['certificates', i, 'key'] } as CertificateOrigin }));
  const listeners = config.listeners.map(({ tls_cert, tls_key, ...listener }, i) => {
    if (tls_cert !== undefined && tls_key !== undefined && !certificates.some((c) => c.cert === tls_cert && c.key === tls_key)) {
      certificates.push({ cert: tls_cert, key: tls_key, default: false, origin: { cert: ['listeners', i, 'tls_cert'], key: ['listeners', i, 'tls_key'] } });
    }
    const plain: ListenerConfig = { ...listener, tls: listener.tls || tls_cert !== undefined };
    return plain;
  });
  if (certificates.length > 0 && !certificates.some((c) => c.default)) certificates[0] = { ...certificates[0]!, default: true };
  return { ...config, listeners, certificates };
}

export type Config = z.output<typeof configSchema>;
export type SiteConfig = z.output<typeof siteSchema>;
export type { RouteConfig, UpstreamGroupConfig } from './routes-schema.ts';
/** A listener after tlsShorthand: no file paths. `tls` absent means plain HTTP. */
export interface ListenerConfig {
  address: string;
  port: number;
  tls?: boolean;
}
export type LoggingConfig = Config['logging'];
export type MetricsConfig = z.output<typeof metricsSchema>;
/** The static client timeouts a worker's connections run under. */
export type ClientTimeoutConfig = Pick<Config, 'client_header_timeout_secs' | 'client_body_timeout_secs' | 'keepalive_timeout_secs'>;

/** Keys that only take effect on restart; `reload` reports a change to them as a warning. */
export const STATIC_KEYS = [
  'admin_socket_path',
  'admin_socket_mode',
  'admin_sockets',
  'workers',
  'shutdown_timeout_secs',
  'client_header_timeout_secs',
  'client_body_timeout_secs',
  'keepalive_timeout_secs',
  'listeners',
  'logging',
  'metrics',
  'request_id_header',
] as const satisfies readonly (keyof Config)[];
