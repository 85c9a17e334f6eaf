// Turns a Host header into the name sites are matched on: lower-cased, without port and
// without the trailing dot of a fully-qualified name (nginx and HAProxy users expect
// "Example.COM.:8080" to reach the "example.com" site).

const HOST_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** The normalized host, or undefined when the header is not a usable host name. */
export function normalizeHost(raw: string): string | undefined {
  const nameLength = normalNameLength(raw);
  if (nameLength === raw.length) return raw;
  if (nameLength > 0) return raw.slice(0, nameLength);
  const host = raw.toLowerCase();
  if (host.charCodeAt(0) === 0x5b /* [ */) return normalizeIpv6Literal(host);
  const colon = host.indexOf(':');
  let name = host;
  if (colon >= 0) {
    if (!isPort(host, colon + 1)) return undefined;
    name = host.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  return HOST_NAME.test(name) ? name : undefined;
}

/**
 * What nearly every request sends: a name already lower-case, without trailing dot, that
 * HOST_NAME accepts, maybe with a port. Checked in one pass over its characters, without the
 * lower-cased copy and the regular expressions of the general case (1% of a worker's user
 * time): the length of the name, or -1 to take the general case.
 */
function normalNameLength(raw: string): number {
  let labelStart = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (labelStart) return -1;
      labelStart = true;
    } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f) {
      labelStart = false;
    } else if (c === 0x3a /* : */ && !labelStart && isPort(raw, i + 1)) {
      return i;
    } else {
      return -1;
    }
  }
  return labelStart ? -1 : raw.length; // not empty, and no trailing dot
}

/** raw[from…] is a port: digits only, maybe none ("localhost:" is taken as without one). */
function isPort(raw: string, from: number): boolean {
  for (let i = from; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** "[::1]:8080" → "[::1]": the brackets stay so the value still reads as an address. */
function normalizeIpv6Literal(host: string): string | undefined {
  const end = host.indexOf(']');
  if (end < 2) return undefined;
  if (end + 1 < host.length && (host.charCodeAt(end + 1) !== 0x3a /* : */ || !isPort(host, end + 2))) return undefined;
  const address = host.slice(1, end);
  return /^[0-9a-f:.]+$/.test(address) ? host.slice(0, end + 1) : undefined;
}
