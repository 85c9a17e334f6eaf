// The request side of the HTTP/1.1 conformance corpus: one case per rule the parser enforces,
// plus the valid shapes it must accept exactly. `bytes` is what goes on the wire, one char per
// byte. Iterated by test/http1-parser.test.ts (the parser alone) and by
// test/http1-conformance.test.ts (raw sockets against the real binary).
import { fillerFields, type Refused, type RequestCase } from './cases.ts';

const refused = (status: number, code: string): Refused => ({ status, code });
const refusedInBody = (code: string): Refused => ({ status: 400, code, inBody: true });
const HOST = 'Host: example.test\r\n';

/** A request line padded to exactly `length` bytes (CRLF not counted). */
function requestLineOf(length: number): string {
  const fixed = 'GET / HTTP/1.1'.length;
  return `GET /${'a'.repeat(length - fixed)} HTTP/1.1`;
}

/** A head of exactly `length` bytes: a short request line, Host and one padding field. */
function headOf(length: number): string {
  const bare = `GET / HTTP/1.1\r\n${HOST}X-Pad: \r\n\r\n`;
  return `GET / HTTP/1.1\r\n${HOST}X-Pad: ${'p'.repeat(length - bare.length)}\r\n\r\n`;
}

export const REQUEST_CASES: RequestCase[] = [
  // ── valid: start line and target forms ───────────────────────────────────────────────
  {
    name: 'origin-form GET on HTTP/1.1 keeps the connection by default',
    rule: 'RFC 9112 §3.2.1, §9.3',
    bytes: 'GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/index.html?a=1&b=2', versionMinor: 1, keepAlive: true, framing: 'none', host: 'example.test', headers: ['Host', 'example.test'] },
  },
  {
    name: 'HTTP/1.1 with Connection: close',
    rule: 'RFC 9112 §9.6',
    bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: false, framing: 'none' },
  },
  {
    name: 'Connection tokens are a case-insensitive list',
    rule: 'RFC 9110 §7.6.1',
    bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nConnection: x-foo ,  CLOSE\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: false, framing: 'none' },
  },
  {
    name: 'HTTP/1.0 closes by default and needs no Host',
    rule: 'RFC 9112 §9.3',
    bytes: 'GET /old HTTP/1.0\r\n\r\n',
    expect: { method: 'GET', target: '/old', versionMinor: 0, keepAlive: false, framing: 'none', headers: [] },
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive keeps the connection',
    rule: 'RFC 9112 §9.3 (HTTP/1.0 keep-alive)',
    bytes: 'GET / HTTP/1.0\r\nHost: example.test\r\nConnection: Keep-Alive\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 0, keepAlive: true, framing: 'none', host: 'example.test' },
  },
  {
    name: 'origin-form dot segments are forwarded untouched',
    rule: 'RFC 9112 §3.2.1 (no normalisation)',
    bytes: 'GET /a/../b/./c//d HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/a/../b/./c//d', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'origin-form percent-encoding is forwarded untouched',
    rule: 'RFC 9112 §3.2.1 (no decoding)',
    bytes: 'GET /a/%2e%2E/b%2Fc?q=%2e HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/a/%2e%2E/b%2Fc?q=%2e', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'raw UTF-8 bytes in the target are forwarded byte for byte',
    rule: 'nginx accepts obs-text in the target',
    bytes: 'GET /caf\xc3\xa9 HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/caf\xc3\xa9', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'absolute-form becomes origin-form with .. untouched; its authority wins over Host',
    rule: 'RFC 9112 §3.2.2',
    bytes: 'GET http://example.test/a/../b?x=%2e HTTP/1.1\r\nHost: other.test\r\n\r\n',
    expect: { method: 'GET', target: '/a/../b?x=%2e', authority: 'example.test', host: 'other.test', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'absolute-form scheme is case-insensitive and %2e stays encoded',
    rule: 'RFC 9112 §3.2.2, RFC 3986 §3.1',
    bytes: 'GET HTTP://example.test/%2E%2e/x HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/%2E%2e/x', authority: 'example.test', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'absolute-form https with a port',
    rule: 'RFC 9112 §3.2.2',
    bytes: 'GET https://example.test:8443/s HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/s', authority: 'example.test:8443', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'absolute-form without a path is sent as /',
    rule: 'RFC 9112 §3.2.1 (empty path → /)',
    bytes: 'GET http://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/', authority: 'example.test', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'absolute-form with a query but no path gets / before the query',
    rule: 'RFC 9112 §3.2.1',
    bytes: 'GET http://example.test?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/?q=1', authority: 'example.test', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'absolute-form may carry @ in its path (only the authority may not)',
    rule: 'RFC 3986 §3.3',
    bytes: 'GET http://example.test/a@b HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/a@b', authority: 'example.test', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'OPTIONS * is parsed with target *',
    rule: 'RFC 9112 §3.2.4',
    bytes: 'OPTIONS * HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'OPTIONS', target: '*', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'OPTIONS in absolute-form without a path is forwarded as *',
    rule: 'RFC 9112 §3.2.4',
    bytes: 'OPTIONS http://example.test HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'OPTIONS', target: '*', authority: 'example.test', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'CONNECT in authority-form is parsed, and the proxy answers 405',
    rule: 'RFC 9112 §3.2.3; a reverse proxy does not tunnel',
    bytes: 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n',
    expect: { method: 'CONNECT', target: 'example.test:443', versionMinor: 1, keepAlive: true, framing: 'none', answeredByProxy: 405 },
  },
  {
    name: 'an extension method of tchar is forwarded',
    rule: 'RFC 9110 §9.1 (method = token)',
    bytes: 'PURGE /cache/x HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'PURGE', target: '/cache/x', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'empty lines before the request line are skipped',
    rule: 'RFC 9112 §2.2',
    bytes: '\r\n\r\nGET /after-crlf HTTP/1.1\r\nHost: example.test\r\n\r\n',
    expect: { method: 'GET', target: '/after-crlf', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'a request line of exactly the limit is accepted',
    rule: 'MAX_REQUEST_LINE_BYTES (8 KiB)',
    bytes: `${requestLineOf(8_192)}\r\n${HOST}\r\n`,
    expect: { method: 'GET', target: `/${'a'.repeat(8_192 - 14)}`, versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'a head of exactly the limit is accepted',
    rule: 'MAX_REQUEST_HEADER_BYTES (16 KiB)',
    bytes: headOf(16_384),
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none' },
  },
  {
    name: 'exactly the most header fields allowed are accepted',
    rule: 'MAX_REQUEST_HEADER_COUNT (100)',
    bytes: `GET / HTTP/1.1\r\n${HOST}${fillerFields(99)}\r\n`,
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none' },
  },

  // ── valid: fields ────────────────────────────────────────────────────────────────────
  {
    name: 'values lose surrounding whitespace and keep inner whitespace; names keep their case',
    rule: 'RFC 9112 §5.1 (OWS)',
    bytes: 'GET / HTTP/1.1\r\nhOsT: example.test\r\nX-Spaced: \t a  b \t\r\nX-Empty:\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none', host: 'example.test', headers: ['hOsT', 'example.test', 'X-Spaced', 'a  b', 'X-Empty', ''] },
  },
  {
    name: 'every tchar is allowed in a field name',
    rule: 'RFC 9110 §5.6.2',
    bytes: "GET / HTTP/1.1\r\nHost: example.test\r\nX-!#$%&'*+-.^_`|~09az: v\r\n\r\n",
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none', headers: ['Host', 'example.test', "X-!#$%&'*+-.^_`|~09az", 'v'] },
  },
  {
    name: 'obs-text in a value is kept byte for byte',
    rule: 'RFC 9110 §5.5 (obs-text)',
    bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-Latin: caf\xe9\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none', headers: ['Host', 'example.test', 'X-Latin', 'caf\xe9'] },
  },
  {
    name: 'Host with a port, and an IPv6 literal',
    rule: 'RFC 9110 §7.2',
    bytes: 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none', host: '[::1]:8080' },
  },
  {
    name: 'Upgrade counts only when Connection lists upgrade',
    rule: 'RFC 9110 §7.8',
    bytes: 'GET /ws HTTP/1.1\r\nHost: example.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n',
    expect: { method: 'GET', target: '/ws', versionMinor: 1, keepAlive: true, framing: 'none', upgrade: 'websocket' },
  },
  {
    name: 'Upgrade without Connection: upgrade is no upgrade',
    rule: 'RFC 9110 §7.8',
    bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none', upgrade: undefined },
  },
  {
    name: 'Upgrade: h2c is parsed as asked (the connection never forwards it)',
    rule: 'RFC 9113 §3.1 (h2c is not offered)',
    bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    expect: { method: 'GET', target: '/', versionMinor: 1, keepAlive: true, framing: 'none', upgrade: 'h2c' },
  },

  // ── valid: bodies ────────────────────────────────────────────────────────────────────
  {
    name: 'Content-Length body',
    rule: 'RFC 9112 §6.2',
    bytes: 'POST /submit HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\nhello',
    expect: { method: 'POST', target: '/submit', versionMinor: 1, keepAlive: true, framing: 'length', contentLength: 5, body: 'hello' },
  },
  {
    name: 'Content-Length: 0 means no body',
    rule: 'RFC 9112 §6.3',
    bytes: 'POST /empty HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0\r\n\r\n',
    expect: { method: 'POST', target: '/empty', versionMinor: 1, keepAlive: true, framing: 'none', contentLength: 0, body: '' },
  },
  {
    name: 'Content-Length with surrounding whitespace and leading zeros',
    rule: 'RFC 9110 §8.6 (1*DIGIT), §5.5 (OWS)',
    bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length:  003 \r\n\r\nabc',
    expect: { method: 'POST', target: '/', versionMinor: 1, keepAlive: true, framing: 'length', contentLength: 3, body: 'abc' },
  },
  {
    name: 'Expect: 100-continue is noted on HTTP/1.1',
    rule: 'RFC 9110 §10.1.1',
    bytes: 'PUT /file HTTP/1.1\r\nHost: example.test\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc',
    expect: { method: 'PUT', target: '/file', versionMinor: 1, keepAlive: true, framing: 'length', contentLength: 3, expectContinue: true, body: 'abc' },
  },
  {
    name: 'Expect: 100-continue is ignored on HTTP/1.0',
    rule: 'RFC 9110 §10.1.1 (MUST ignore in HTTP/1.0)',
    bytes: 'PUT /file HTTP/1.0\r\nHost: example.test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
    expect: { method: 'PUT', target: '/file', versionMinor: 0, keepAlive: false, framing: 'length', contentLength: 3, expectContinue: false, body: 'abc' },
  },
  {
    name: 'chunked body with extensions (quoted too) and trailers, which are dropped',
    rule: 'RFC 9112 §7.1, §7.1.1, §7.1.2',
    bytes:
      'POST /up HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\n6 ; a="q;x" ;b\r\n world\r\n0;last\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n',
    expect: { method: 'POST', target: '/up', versionMinor: 1, keepAlive: true, framing: 'chunked', body: 'hello world' },
  },
  {
    name: 'chunked is case-insensitive; sizes are hex of either case',
    rule: 'RFC 9112 §7, §7.1',
    bytes:
      'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: Chunked\r\n\r\n' +
      'A\r\n0123456789\r\nb\r\nabcdefghijk\r\n000\r\n\r\n',
    expect: { method: 'POST', target: '/', versionMinor: 1, keepAlive: true, framing: 'chunked', body: '0123456789abcdefghijk' },
  },

  // ── refused: Host ────────────────────────────────────────────────────────────────────
  { name: 'two Host fields', rule: 'RFC 9112 §3.2', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_DUPLICATE_HOST') },
  { name: 'two Host fields in different case', rule: 'RFC 9112 §3.2', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nhost: evil.test\r\n\r\n', expect: refused(400, 'ERR_DUPLICATE_HOST') },
  { name: 'HTTP/1.1 without Host', rule: 'RFC 9112 §3.2', bytes: 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', expect: refused(400, 'ERR_MISSING_HOST') },
  { name: 'HTTP/1.1 absolute-form still needs Host', rule: 'RFC 9112 §3.2', bytes: 'GET http://example.test/ HTTP/1.1\r\n\r\n', expect: refused(400, 'ERR_MISSING_HOST') },
  { name: 'Host with a slash', rule: 'RFC 9110 §7.2 (nginx refuses too)', bytes: 'GET / HTTP/1.1\r\nHost: example.test/evil\r\n\r\n', expect: refused(400, 'ERR_INVALID_HOST') },
  { name: 'Host with a space', rule: 'RFC 9110 §7.2', bytes: 'GET / HTTP/1.1\r\nHost: example .test\r\n\r\n', expect: refused(400, 'ERR_INVALID_HOST') },
  { name: 'Host with userinfo', rule: 'RFC 9110 §7.2 (uri-host only)', bytes: 'GET / HTTP/1.1\r\nHost: user@example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_HOST') },

  // ── refused: framing ─────────────────────────────────────────────────────────────────
  { name: 'Transfer-Encoding: gzip', rule: 'RFC 9112 §6.1 (nginx: 501)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: gzip\r\n\r\n', expect: refused(501, 'ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding: gzip, chunked', rule: 'RFC 9112 §6.1 (only chunked, alone)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', expect: refused(501, 'ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding: chunked, chunked', rule: 'RFC 9112 §6.1 (chunked at most once)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', expect: refused(501, 'ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'two Transfer-Encoding fields', rule: 'RFC 9112 §6.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expect: refused(501, 'ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding: identity', rule: 'RFC 9112 §6.1 (identity is gone)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: identity\r\n\r\n', expect: refused(501, 'ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding with a parameter', rule: 'RFC 9112 §6.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n', expect: refused(501, 'ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding on HTTP/1.0', rule: 'RFC 9112 §6.1', bytes: 'POST / HTTP/1.0\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expect: refused(400, 'ERR_TRANSFER_ENCODING_HTTP10') },
  { name: 'Content-Length then Transfer-Encoding', rule: 'RFC 9112 §6.3 (smuggling)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expect: refused(400, 'ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding then Content-Length', rule: 'RFC 9112 §6.3 (smuggling)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', expect: refused(400, 'ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING') },
  { name: 'Content-Length list', rule: 'RFC 9112 §6.3', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5, 5\r\n\r\nhello', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'Content-Length with a plus sign', rule: 'RFC 9110 §8.6', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: +5\r\n\r\nhello', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'negative Content-Length', rule: 'RFC 9110 §8.6', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: -1\r\n\r\n', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'hex Content-Length', rule: 'RFC 9110 §8.6', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 0x5\r\n\r\nhello', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'Content-Length with inner space', rule: 'RFC 9110 §8.6', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1 0\r\n\r\nhelloworld', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'empty Content-Length', rule: 'RFC 9110 §8.6', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length:\r\n\r\n', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'Content-Length of 2^53', rule: 'larger than 2^53 − 1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 9007199254740992\r\n\r\n', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'Content-Length of 20 digits', rule: 'larger than 2^53 − 1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 18446744073709551621\r\n\r\n', expect: refused(400, 'ERR_INVALID_CONTENT_LENGTH') },
  { name: 'two identical Content-Length fields', rule: 'nginx: duplicate header line', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', expect: refused(400, 'ERR_DUPLICATE_CONTENT_LENGTH') },
  { name: 'two different Content-Length fields', rule: 'RFC 9112 §6.3', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', expect: refused(400, 'ERR_DUPLICATE_CONTENT_LENGTH') },

  // ── refused: field syntax ────────────────────────────────────────────────────────────
  { name: 'obs-fold continuation line', rule: 'RFC 9112 §5.2', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-Folded: a\r\n b\r\n\r\n', expect: refused(400, 'ERR_OBS_FOLD') },
  { name: 'obs-fold with a tab', rule: 'RFC 9112 §5.2', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-Folded: a\r\n\tb\r\n\r\n', expect: refused(400, 'ERR_OBS_FOLD') },
  { name: 'whitespace before the first field line', rule: 'RFC 9112 §2.2', bytes: 'GET / HTTP/1.1\r\n Host: example.test\r\n\r\n', expect: refused(400, 'ERR_OBS_FOLD') },
  { name: 'bare LF line endings', rule: 'RFC 9112 §2.2 (stricter than nginx)', bytes: 'GET / HTTP/1.1\nHost: example.test\n\n', expect: refused(400, 'ERR_BARE_LF') },
  { name: 'bare LF ending one field line', rule: 'RFC 9112 §2.2', bytes: 'GET / HTTP/1.1\r\nHost: example.test\nX-A: b\r\n\r\n', expect: refused(400, 'ERR_BARE_LF') },
  { name: 'bare CR inside a value', rule: 'RFC 9112 §2.2', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-A: a\rb\r\n\r\n', expect: refused(400, 'ERR_BARE_CR') },
  { name: 'bare CR ending the request line', rule: 'RFC 9112 §2.2', bytes: 'GET / HTTP/1.1\rHost: example.test\r\n\r\n', expect: refused(400, 'ERR_BARE_CR') },
  { name: 'NUL in a value', rule: 'RFC 9110 §5.5', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-A: a\x00b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_VALUE') },
  { name: 'control byte in a value', rule: 'RFC 9110 §5.5', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-A: a\x01b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_VALUE') },
  { name: 'escape byte in a value', rule: 'RFC 9110 §5.5', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-A: \x1b[31m\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_VALUE') },
  { name: 'DEL in a value', rule: 'RFC 9110 §5.5', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-A: a\x7fb\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_VALUE') },
  { name: 'NUL in a field name', rule: 'RFC 9110 §5.1', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-\x00A: b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'space before the colon', rule: 'RFC 9112 §5.1', bytes: 'GET / HTTP/1.1\r\nHost : example.test\r\n\r\n', expect: refused(400, 'ERR_SPACE_BEFORE_COLON') },
  { name: 'tab before the colon', rule: 'RFC 9112 §5.1', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nContent-Length\t: 0\r\n\r\n', expect: refused(400, 'ERR_SPACE_BEFORE_COLON') },
  { name: 'parenthesis in a field name', rule: 'RFC 9110 §5.6.2 (tchar)', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX(A): b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'slash in a field name', rule: 'RFC 9110 §5.6.2 (tchar)', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX/A: b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'non-ASCII in a field name', rule: 'RFC 9110 §5.6.2 (tchar)', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-caf\xe9: b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'empty field name', rule: 'RFC 9110 §5.1', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\n: b\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'HTTP/2 pseudo-header', rule: 'RFC 9110 §5.1', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\n:authority: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'field line without a colon', rule: 'RFC 9112 §5', bytes: 'GET / HTTP/1.1\r\nHost: example.test\r\nX-No-Colon\r\n\r\n', expect: refused(400, 'ERR_INVALID_HEADER_NAME') },
  { name: 'more header fields than allowed', rule: 'MAX_REQUEST_HEADER_COUNT (100)', bytes: `GET / HTTP/1.1\r\n${HOST}${fillerFields(100)}\r\n`, expect: refused(431, 'ERR_TOO_MANY_HEADERS') },
  { name: 'head larger than allowed', rule: 'MAX_REQUEST_HEADER_BYTES (16 KiB)', bytes: headOf(16_385), expect: refused(431, 'ERR_HEAD_TOO_LARGE') },
  { name: 'head far larger than allowed, not finished', rule: 'MAX_REQUEST_HEADER_BYTES (16 KiB)', bytes: `GET / HTTP/1.1\r\n${HOST}${fillerFields(200, 'x'.repeat(100))}`, expect: refused(431, 'ERR_HEAD_TOO_LARGE') },

  // ── refused: request line ────────────────────────────────────────────────────────────
  { name: 'request line one byte over the limit', rule: 'MAX_REQUEST_LINE_BYTES (8 KiB)', bytes: `${requestLineOf(8_193)}\r\n${HOST}\r\n`, expect: refused(414, 'ERR_REQUEST_LINE_TOO_LONG') },
  { name: 'request line over the limit, not finished', rule: 'MAX_REQUEST_LINE_BYTES (8 KiB)', bytes: `GET /${'a'.repeat(9_000)}`, expect: refused(414, 'ERR_REQUEST_LINE_TOO_LONG') },
  { name: 'HTTP/2 connection preface', rule: 'RFC 9113 §3.4 (prior knowledge is not spoken)', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', expect: refused(505, 'ERR_HTTP_VERSION') },
  { name: 'HTTP/2.0 request line', rule: 'RFC 9112 §2.3', bytes: 'GET / HTTP/2.0\r\nHost: example.test\r\n\r\n', expect: refused(505, 'ERR_HTTP_VERSION') },
  { name: 'HTTP/1.2', rule: 'RFC 9112 §2.3', bytes: 'GET / HTTP/1.2\r\nHost: example.test\r\n\r\n', expect: refused(505, 'ERR_HTTP_VERSION') },
  { name: 'HTTP/0.9 version token', rule: 'RFC 9112 §2.3', bytes: 'GET / HTTP/0.9\r\nHost: example.test\r\n\r\n', expect: refused(505, 'ERR_HTTP_VERSION') },
  { name: 'HTTP/1.10 is no HTTP-version', rule: 'RFC 9112 §2.3 (one digit each)', bytes: 'GET / HTTP/1.10\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'HTTP/11.1 is no HTTP-version', rule: 'RFC 9112 §2.3 (one digit each)', bytes: 'GET / HTTP/11.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'HTTP/0.9 simple request without a version', rule: 'RFC 9112 §3', bytes: 'GET /\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'lower-case protocol name', rule: 'RFC 9112 §2.3 (case-sensitive)', bytes: 'GET / http/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'space after the version', rule: 'RFC 9112 §3', bytes: 'GET / HTTP/1.1 \r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'two spaces after the method', rule: 'RFC 9112 §3 (single SP)', bytes: 'GET  / HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'space inside the target', rule: 'RFC 9112 §3.2', bytes: 'GET /a b HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_REQUEST_LINE') },
  { name: 'tab after the method', rule: 'RFC 9112 §3 (SP only)', bytes: 'GET\t/ HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_METHOD') },
  { name: 'non-tchar in the method', rule: 'RFC 9110 §9.1', bytes: 'GE(T / HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_METHOD') },
  { name: 'empty method', rule: 'RFC 9110 §9.1', bytes: ' / HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_METHOD') },
  { name: 'TLS ClientHello on the plain port', rule: 'RFC 9112 §3', bytes: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', expect: refused(400, 'ERR_INVALID_METHOD') },
  { name: 'NUL in the target', rule: 'RFC 9112 §3.2', bytes: 'GET /a\x00b HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'tab in the target', rule: 'RFC 9112 §3.2', bytes: 'GET /a\tb HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'DEL in the target', rule: 'RFC 9112 §3.2', bytes: 'GET /a\x7f HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'relative target', rule: 'RFC 9112 §3.2', bytes: 'GET a/b HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'query-only target', rule: 'RFC 9112 §3.2', bytes: 'GET ?x=1 HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'asterisk-form on a method other than OPTIONS', rule: 'RFC 9112 §3.2.4', bytes: 'GET * HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'absolute-form with a scheme other than http(s)', rule: 'RFC 9112 §3.2.2', bytes: 'GET ftp://example.test/f HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'absolute-form with an empty authority', rule: 'RFC 9110 §4.2.1', bytes: 'GET http:///etc/passwd HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'absolute-form with a backslash in the authority', rule: 'RFC 3986 §3.2.2', bytes: 'GET http://example.test\\@evil.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_INVALID_TARGET') },
  { name: 'absolute-form with userinfo', rule: 'RFC 9110 §4.2.4', bytes: 'GET http://user@example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_TARGET_USERINFO') },
  { name: 'absolute-form with user and password', rule: 'RFC 9110 §4.2.4', bytes: 'GET https://user:pw@example.test/x HTTP/1.1\r\nHost: example.test\r\n\r\n', expect: refused(400, 'ERR_TARGET_USERINFO') },

  // ── refused: chunked body ────────────────────────────────────────────────────────────
  { name: 'chunk size that is not hex', rule: 'RFC 9112 §7.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'chunk size with a 0x prefix', rule: 'RFC 9112 §7.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'negative chunk size', rule: 'RFC 9112 §7.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'empty chunk size', rule: 'RFC 9112 §7.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'chunk size of 15 hex digits', rule: 'bounded chunk size (2^53 − 1)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n000000000000005\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'chunk size above 2^53 − 1', rule: 'bounded chunk size (2^53 − 1)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n20000000000000\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'garbage after the chunk size', rule: 'RFC 9112 §7.1.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'bare LF ending a chunk-size line', rule: 'RFC 9112 §7.1 (smuggling)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_BARE_LF') },
  { name: 'bare LF inside a chunk extension', rule: 'RFC 9112 §7.1.1 (smuggling)', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_BARE_LF') },
  { name: 'control byte in a chunk extension', rule: 'RFC 9112 §7.1.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x00\r\nhello\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_EXTENSION') },
  { name: 'chunk-size line over the limit', rule: 'MAX_CHUNK_LINE_BYTES (4 KiB)', bytes: `POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5;${'e'.repeat(5_000)}\r\nhello\r\n0\r\n\r\n`, expect: refusedInBody('ERR_CHUNK_LINE_TOO_LONG') },
  { name: 'chunk data longer than its size', rule: 'RFC 9112 §7.1', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_NOT_TERMINATED') },
  { name: 'obs-fold in the trailer section', rule: 'RFC 9112 §7.1.2, §5.2', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\r\n b\r\n\r\n', expect: refusedInBody('ERR_INVALID_TRAILER') },
  { name: 'trailer without a colon', rule: 'RFC 9112 §7.1.2', bytes: 'POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T\r\n\r\n', expect: refusedInBody('ERR_INVALID_TRAILER') },
  { name: 'trailer section over the limit', rule: 'MAX_TRAILER_BYTES (16 KiB)', bytes: `POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${fillerFields(200, 'x'.repeat(100))}\r\n`, expect: refusedInBody('ERR_TRAILERS_TOO_LARGE') },
];
