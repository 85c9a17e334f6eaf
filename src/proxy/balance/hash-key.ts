// What `hash_key` hashes on, read from a request: the client's address, one header's value, or
// one cookie's value. Compiled once per group; the request side works on raw header arrays.

export type HashKeyReader = (remote: string, rawHeaders: readonly string[]) => string | undefined;

function headerValue(rawHeaders: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return rawHeaders[i + 1];
  }
  return undefined;
}

function cookieValue(rawHeaders: readonly string[], cookie: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length !== 6 || name.toLowerCase() !== 'cookie') continue;
    for (const pair of (rawHeaders[i + 1] as string).split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === cookie) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** `client_ip`, `header:<name>` or `cookie:<name>`, as the config validated it. */
export function hashKeyReader(spec: string): HashKeyReader {
  if (spec.startsWith('header:')) {
    const lower = spec.slice('header:'.length).toLowerCase();
    return (_remote, rawHeaders) => headerValue(rawHeaders, lower);
  }
  if (spec.startsWith('cookie:')) {
    const cookie = spec.slice('cookie:'.length);
    return (_remote, rawHeaders) => cookieValue(rawHeaders, cookie);
  }
  return (remote) => remote;
}
