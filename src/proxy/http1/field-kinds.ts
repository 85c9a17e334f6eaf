// The field names the proxy acts on, each with a kind code, so the parser and the header
// rewriting in src/proxy/headers.ts classify a name with a length lookup and a few character
// compares instead of lower-casing it and hashing the copy into sets (a fresh string per field,
// hashed on every lookup: a visible share of a small request's CPU time). One table serves both,
// so the parser's view of a name and the rewriting's view can never disagree.

/** Kind flag: describes one connection; never forwarded, in either direction (RFC 9110 §7.6.1 and the legacy ones nginx and HAProxy also drop). */
export const HOP_BY_HOP = 0x100;
/** Kind flag: a request header the proxy writes itself (or answers, for Expect), so a client's copy is not forwarded as sent. */
export const SET_BY_PROXY = 0x200;
/** Kind flag: values that repeat from message to message and are no secret, so the parser may hand out the string it decoded last time. */
export const REPEATED_VALUES = 0x400;
/** The low bits of a kind: a small index, unique per name. */
export const KIND_INDEX = 0xff;

export const OTHER = 0;
export const CONNECTION = 1 | HOP_BY_HOP | REPEATED_VALUES;
const KEEP_ALIVE = 2 | HOP_BY_HOP | REPEATED_VALUES;
const PROXY_CONNECTION = 3 | HOP_BY_HOP;
const TE = 4 | HOP_BY_HOP;
const TRAILER = 5 | HOP_BY_HOP;
export const TRANSFER_ENCODING = 6 | HOP_BY_HOP | REPEATED_VALUES;
export const UPGRADE = 7 | HOP_BY_HOP | REPEATED_VALUES;
const PROXY_AUTHORIZATION = 8 | HOP_BY_HOP;
const PROXY_AUTHENTICATE = 9 | HOP_BY_HOP;
export const HOST = 10 | SET_BY_PROXY | REPEATED_VALUES;
export const EXPECT = 11 | SET_BY_PROXY | REPEATED_VALUES;
export const X_FORWARDED_FOR = 12 | SET_BY_PROXY;
const X_FORWARDED_PROTO = 13 | SET_BY_PROXY;
const X_FORWARDED_HOST = 14 | SET_BY_PROXY;
const X_REAL_IP = 15 | SET_BY_PROXY;
export const VIA = 16 | SET_BY_PROXY;
export const CONTENT_LENGTH = 17 | REPEATED_VALUES;
// Names the proxy only reads past, listed for their values (nearly every message repeats them).
const CONTENT_TYPE = 18 | REPEATED_VALUES;
const DATE = 19 | REPEATED_VALUES;
const SERVER = 20 | REPEATED_VALUES;
const ACCEPT = 21 | REPEATED_VALUES;
const ACCEPT_ENCODING = 22 | REPEATED_VALUES;
const ACCEPT_LANGUAGE = 23 | REPEATED_VALUES;
const USER_AGENT = 24 | REPEATED_VALUES;
const CACHE_CONTROL = 25 | REPEATED_VALUES;
const VARY = 26 | REPEATED_VALUES;

/** Every classified name, lower-case, with its kind. */
export const FIELD_KINDS: readonly (readonly [string, number])[] = [
  ['connection', CONNECTION],
  ['keep-alive', KEEP_ALIVE],
  ['proxy-connection', PROXY_CONNECTION],
  ['te', TE],
  ['trailer', TRAILER],
  ['transfer-encoding', TRANSFER_ENCODING],
  ['upgrade', UPGRADE],
  ['proxy-authorization', PROXY_AUTHORIZATION],
  ['proxy-authenticate', PROXY_AUTHENTICATE],
  ['host', HOST],
  ['expect', EXPECT],
  ['x-forwarded-for', X_FORWARDED_FOR],
  ['x-forwarded-proto', X_FORWARDED_PROTO],
  ['x-forwarded-host', X_FORWARDED_HOST],
  ['x-real-ip', X_REAL_IP],
  ['via', VIA],
  ['content-length', CONTENT_LENGTH],
  ['content-type', CONTENT_TYPE],
  ['date', DATE],
  ['server', SERVER],
  ['accept', ACCEPT],
  ['accept-encoding', ACCEPT_ENCODING],
  ['accept-language', ACCEPT_LANGUAGE],
  ['user-agent', USER_AGENT],
  ['cache-control', CACHE_CONTROL],
  ['vary', VARY],
];

/** Kind indexes run below this (sizes per-kind tables). */
export const KIND_COUNT = FIELD_KINDS.length + 1;

const BY_LENGTH: (readonly [string, number])[][] = [];
for (const entry of FIELD_KINDS) (BY_LENGTH[entry[0].length] ??= []).push(entry);

/** The kind of a field name (any case), OTHER when the proxy does not act on it. */
export function fieldKind(name: string): number {
  const candidates = BY_LENGTH[name.length];
  if (candidates !== undefined) {
    for (const [lower, kind] of candidates) if (sameLowerCase(name, lower)) return kind;
  }
  return OTHER;
}

/**
 * Whether `name` equals `lower` (a lower-case name of the same length) ignoring ASCII case, as
 * `name.toLowerCase() === lower` would say for every name the proxy sees (field names are
 * tokens, configured names are checked to be), without building the lower-case copy.
 */
export function sameLowerCase(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
