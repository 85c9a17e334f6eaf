// The response side of the HTTP/1.1 conformance corpus: what an upstream may answer and what
// makes the proxy refuse the response (the client gets 502 and none of its bytes). Same shape
// and same iterators as request-cases.ts.
import { fillerFields, type Refused, type ResponseCase } from './cases.ts';

/** Every refused response becomes a 502 for the client. */
const refused = (code: string): Refused => ({ status: 502, code });
const refusedInBody = (code: string): Refused => ({ status: 502, code, inBody: true });

export const RESPONSE_CASES: ResponseCase[] = [
  // ── valid ────────────────────────────────────────────────────────────────────────────
  {
    name: 'Content-Length body on HTTP/1.1',
    rule: 'RFC 9112 §6.3',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    expect: { status: 200, reason: 'OK', versionMinor: 1, keepAlive: true, framing: 'length', contentLength: 5, body: 'hello', headers: ['Content-Type', 'text/plain', 'Content-Length', '5'] },
  },
  {
    name: 'chunked body with extensions and trailers',
    rule: 'RFC 9112 §7.1',
    bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n',
    expect: { status: 200, reason: 'OK', versionMinor: 1, keepAlive: true, framing: 'chunked', body: 'Wikipedia' },
  },
  {
    name: 'neither Content-Length nor chunked: the body ends at close',
    rule: 'RFC 9112 §6.3 (item 8)',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end',
    expect: { status: 200, reason: 'OK', versionMinor: 1, keepAlive: true, framing: 'close', body: 'until the end' },
  },
  {
    name: 'a response to HEAD has no body whatever its Content-Length',
    rule: 'RFC 9112 §6.3 (item 1)',
    requestMethod: 'HEAD',
    bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
    expect: { status: 200, reason: 'OK', versionMinor: 1, keepAlive: true, framing: 'none', contentLength: 1234, body: '' },
  },
  {
    name: 'a response to HEAD has no body even when chunked is announced',
    rule: 'RFC 9112 §6.3 (item 1)',
    requestMethod: 'HEAD',
    bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    expect: { status: 200, reason: 'OK', versionMinor: 1, keepAlive: true, framing: 'none', body: '' },
  },
  {
    name: '204 has no body',
    rule: 'RFC 9112 §6.3 (item 1)',
    bytes: 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
    expect: { status: 204, reason: 'No Content', versionMinor: 1, keepAlive: true, framing: 'none', body: '' },
  },
  {
    name: '304 has no body whatever its Content-Length',
    rule: 'RFC 9112 §6.3 (item 1)',
    bytes: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 100\r\n\r\n',
    expect: { status: 304, reason: 'Not Modified', versionMinor: 1, keepAlive: true, framing: 'none', contentLength: 100, body: '' },
  },
  {
    name: '100 Continue has no body',
    rule: 'RFC 9112 §6.3 (item 1)',
    bytes: 'HTTP/1.1 100 Continue\r\n\r\n',
    expect: { status: 100, reason: 'Continue', versionMinor: 1, keepAlive: true, framing: 'none', body: '', headers: [] },
  },
  {
    name: '103 Early Hints has no body',
    rule: 'RFC 8297',
    bytes: 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n',
    expect: { status: 103, reason: 'Early Hints', versionMinor: 1, keepAlive: true, framing: 'none', body: '' },
  },
  {
    name: '101 Switching Protocols names its protocol',
    rule: 'RFC 9110 §15.2.2',
    bytes: 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    expect: { status: 101, reason: 'Switching Protocols', versionMinor: 1, keepAlive: true, framing: 'none', upgrade: 'websocket', body: '' },
  },
  {
    name: 'HTTP/1.0 response closes by default',
    rule: 'RFC 9112 §9.3',
    bytes: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    expect: { status: 200, reason: 'OK', versionMinor: 0, keepAlive: false, framing: 'length', body: 'ok' },
  },
  {
    name: 'HTTP/1.0 response with Connection: keep-alive',
    rule: 'RFC 9112 §9.3',
    bytes: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok',
    expect: { status: 200, reason: 'OK', versionMinor: 0, keepAlive: true, framing: 'length', body: 'ok' },
  },
  {
    name: 'HTTP/1.1 response with Connection: close',
    rule: 'RFC 9112 §9.6',
    bytes: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
    expect: { status: 200, reason: 'OK', versionMinor: 1, keepAlive: false, framing: 'length', body: 'ok' },
  },
  {
    name: 'empty reason phrase',
    rule: 'RFC 9112 §4',
    bytes: 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n',
    expect: { status: 200, reason: '', versionMinor: 1, keepAlive: true, framing: 'none', body: '' },
  },
  {
    name: 'no space before an empty reason phrase',
    rule: 'RFC 9112 §4 (nginx and HAProxy accept it)',
    bytes: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n',
    expect: { status: 200, reason: '', versionMinor: 1, keepAlive: true, framing: 'none', body: '' },
  },
  {
    name: 'reason phrase with spaces and obs-text; an unregistered status',
    rule: 'RFC 9112 §4',
    bytes: 'HTTP/1.1 599 Caf\xe9  Closed \r\nContent-Length: 0\r\n\r\n',
    expect: { status: 599, reason: 'Caf\xe9  Closed ', versionMinor: 1, keepAlive: true, framing: 'none', body: '' },
  },

  // ── refused ──────────────────────────────────────────────────────────────────────────
  { name: 'HTTP/2.0 status line', rule: 'RFC 9112 §2.3', bytes: 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_HTTP_VERSION') },
  { name: 'HTTP/1.2 status line', rule: 'RFC 9112 §2.3', bytes: 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_HTTP_VERSION') },
  { name: 'not HTTP at all', rule: 'RFC 9112 §4', bytes: 'SSH-2.0-OpenSSH_9.6\r\n\r\n', expect: refused('ERR_INVALID_STATUS_LINE') },
  { name: 'lower-case protocol name', rule: 'RFC 9112 §2.3', bytes: 'http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_STATUS_LINE') },
  { name: 'two-digit status', rule: 'RFC 9112 §4 (3DIGIT)', bytes: 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_STATUS_LINE') },
  { name: 'four-digit status', rule: 'RFC 9112 §4 (3DIGIT)', bytes: 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_STATUS_LINE') },
  { name: 'status below 100', rule: 'RFC 9110 §15', bytes: 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_STATUS_LINE') },
  { name: 'control byte in the reason phrase', rule: 'RFC 9112 §4', bytes: 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_STATUS_LINE') },
  { name: 'status line over the limit', rule: 'MAX_RESPONSE_STATUS_LINE_BYTES (8 KiB)', bytes: `HTTP/1.1 200 ${'k'.repeat(9_000)}\r\nContent-Length: 0\r\n\r\n`, expect: refused('ERR_STATUS_LINE_TOO_LONG') },
  { name: 'bare LF line endings', rule: 'RFC 9112 §2.2', bytes: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', expect: refused('ERR_BARE_LF') },
  { name: 'bare CR inside a value', rule: 'RFC 9112 §2.2', bytes: 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_BARE_CR') },
  { name: 'obs-fold', rule: 'RFC 9112 §5.2 (a proxy must not relay it)', bytes: 'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_OBS_FOLD') },
  { name: 'space before the colon', rule: 'RFC 9112 §5.1 (MUST reject)', bytes: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok', expect: refused('ERR_SPACE_BEFORE_COLON') },
  { name: 'NUL in a value', rule: 'RFC 9110 §5.5', bytes: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_HEADER_VALUE') },
  { name: 'invalid field name', rule: 'RFC 9110 §5.6.2', bytes: 'HTTP/1.1 200 OK\r\nX[A]: b\r\nContent-Length: 0\r\n\r\n', expect: refused('ERR_INVALID_HEADER_NAME') },
  { name: 'Content-Length and Transfer-Encoding', rule: 'RFC 9112 §6.3 (smuggling)', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expect: refused('ERR_CONTENT_LENGTH_WITH_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding other than chunked', rule: 'RFC 9112 §6.1', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', expect: refused('ERR_UNSUPPORTED_TRANSFER_ENCODING') },
  { name: 'Transfer-Encoding in an HTTP/1.0 response', rule: 'RFC 9112 §6.1', bytes: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', expect: refused('ERR_TRANSFER_ENCODING_HTTP10') },
  { name: 'Content-Length list', rule: 'RFC 9112 §6.3', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok', expect: refused('ERR_INVALID_CONTENT_LENGTH') },
  { name: 'signed Content-Length', rule: 'RFC 9110 §8.6', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok', expect: refused('ERR_INVALID_CONTENT_LENGTH') },
  { name: 'hex Content-Length', rule: 'RFC 9110 §8.6', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 0x2\r\n\r\nok', expect: refused('ERR_INVALID_CONTENT_LENGTH') },
  { name: 'Content-Length above 2^53 − 1', rule: 'RFC 9110 §8.6', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 9007199254740992\r\n\r\nok', expect: refused('ERR_INVALID_CONTENT_LENGTH') },
  { name: 'two identical Content-Length fields', rule: 'nginx ≥ 1.23: duplicate header line', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', expect: refused('ERR_DUPLICATE_CONTENT_LENGTH') },
  { name: 'more header fields than allowed', rule: 'MAX_RESPONSE_HEADER_COUNT (256)', bytes: `HTTP/1.1 200 OK\r\n${fillerFields(256)}Content-Length: 0\r\n\r\n`, expect: refused('ERR_TOO_MANY_HEADERS') },
  { name: 'head larger than allowed', rule: 'MAX_RESPONSE_HEADER_BYTES (64 KiB)', bytes: `HTTP/1.1 200 OK\r\n${fillerFields(200, 'x'.repeat(400))}Content-Length: 0\r\n\r\n`, expect: refused('ERR_HEAD_TOO_LARGE') },
  { name: 'chunk size that is not hex', rule: 'RFC 9112 §7.1', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\nzz\r\npedia\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_SIZE') },
  { name: 'bare LF in a chunk-size line', rule: 'RFC 9112 §7.1', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\nWiki\r\n0\r\n\r\n', expect: refusedInBody('ERR_BARE_LF') },
  { name: 'chunk data longer than its size', rule: 'RFC 9112 §7.1', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWikipedia\r\n0\r\n\r\n', expect: refusedInBody('ERR_CHUNK_NOT_TERMINATED') },
];
