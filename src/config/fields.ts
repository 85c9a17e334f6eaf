// Field schemas shared by the top-level config (schema.ts) and the upstream groups and routes
// (routes-schema.ts): kept apart so both can use them without importing each other.
import * as z from 'zod';

export const positiveSeconds = z.number().positive('must be a number of seconds greater than 0');

export const upstreamUrl = z.string().transform((raw, ctx) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not a URL; write it as http://host:port` });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `"${raw}" must use http:// or https://` });
    return z.NEVER;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: `"${raw}" must be an origin only (scheme, host and port), without path, query or credentials` });
    return z.NEVER;
  }
  return url.origin;
});

/** A key that takes one value or a list of them; either way the result is a list. */
export const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(item).min(1, 'must list at least one entry'));

export const rateLimitSchema = z
  .object({
    rps: z.number().positive('must be greater than 0 requests per second'),
    burst: z.number().int().positive('must be a whole number of requests greater than 0').optional(),
  })
  .strict()
  .transform((r) => ({ rps: r.rps, burst: r.burst ?? Math.max(1, Math.ceil(r.rps)) }));

export const bodyLimitBytes = z.number().int().nonnegative('must be 0 or more bytes');

/**
 * How the proxy talks TLS to an https:// upstream. A shape rather than a schema so that every
 * table that names upstreams (a site, an `[[upstreams]]` group) spreads the same keys in.
 */
export const upstreamTlsShape = {
  /** PEM bundle of the CAs that sign the upstream's certificate, instead of the system ones. */
  tls_ca_file: z.string().min(1, 'must be a file path').optional(),
  /** Name sent as SNI and checked against the upstream's certificate; default its host name. */
  tls_servername: z.string().min(1, 'must be a host name').optional(),
  tls_verify: z.boolean().default(true),
};
