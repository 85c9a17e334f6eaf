// The kind the parser gives each field name (src/proxy/http1/field-kinds.ts) is what the header
// rewriting (src/proxy/headers.ts) acts on instead of lower-casing names: so every name the proxy
// drops or sets must be classified as such in any case, near misses must not be, the rewriting
// must give the same list from the parser's kinds as from its own classification, and the
// names and values the parser hands out again must be exactly the bytes of each message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOP_BY_HOP_HEADERS, clientResponseHeaders, readClientHead } from '../src/proxy/headers.ts';
import { FIELD_KINDS, HOP_BY_HOP, KIND_COUNT, KIND_INDEX, OTHER, SET_BY_PROXY, fieldKind } from '../src/proxy/http1/field-kinds.ts';
import type { RequestHead, ResponseHead } from '../src/proxy/http1/message.ts';
import { findHeadEnd, parseRequestHead, parseResponseHead } from '../src/proxy/http1/parser.ts';
import { REQUEST_LIMITS, RESPONSE_LIMITS } from './http1/cases.ts';

/** RFC 9110 §7.6.1 plus the legacy ones nginx and HAProxy drop, as docs/data-path.md lists them. */
const HOP_BY_HOP_NAMES = ['Connection', 'Keep-Alive', 'Proxy-Connection', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'Proxy-Authorization', 'Proxy-Authenticate'];
/** The request headers the proxy writes (or answers) itself, as docs/data-path.md lists them. */
const SET_BY_PROXY_NAMES = ['Host', 'Expect', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'X-Real-IP', 'Via'];
/** One character off a classified name, or a byte that folds onto one of its characters under a careless `| 0x20`. */
const NEAR_MISSES = ['Connectio', 'Connections', 'Keep_Alive', 'Keep-Alivf', 'Hos', 'Hostt', 'X-Forwarded-Fo', 'X-Forwarded-Forr', 'Content-Lengt', 'Content_Length', 'T', 'TEE', 'Vi', 'Viaa', 'Upgrad', 'X-Real-IQ'];

function spellings(name: string): string[] {
  const alternating = [...name].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join('');
  const inverse = [...name].map((c, i) => (i % 2 === 1 ? c.toUpperCase() : c.toLowerCase())).join('');
  return [name, name.toLowerCase(), name.toUpperCase(), alternating, inverse];
}

/** A value each name accepts in a message the parser lets through. */
function valueFor(name: string): string {
  const lower = name.toLowerCase();
  if (lower === 'transfer-encoding') return 'chunked';
  if (lower === 'connection') return 'keep-alive';
  if (lower === 'content-length') return '0';
  if (lower === 'expect') return '100-continue';
  return 'v';
}

function request(fields: string[][]): RequestHead {
  const hasHost = fields.some(([name]) => name!.toLowerCase() === 'host');
  const lines = (hasHost ? fields : [['Host', 'example.test'], ...fields]).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const buf = Buffer.from(`GET / HTTP/1.1\r\n${lines}\r\n`, 'latin1');
  const end = findHeadEnd(buf, 0, 0, buf.length, REQUEST_LIMITS, 'request');
  assert.equal(typeof end, 'number');
  const head = parseRequestHead(buf, 0, end as number, REQUEST_LIMITS);
  assert.ok('method' in head, `refused: ${JSON.stringify(head)}`);
  return head;
}

function response(fields: string[][]): ResponseHead {
  const lines = fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const buf = Buffer.from(`HTTP/1.1 200 OK\r\n${lines}\r\n`, 'latin1');
  const end = findHeadEnd(buf, 0, 0, buf.length, RESPONSE_LIMITS, 'response');
  assert.equal(typeof end, 'number');
  const head = parseResponseHead(buf, 0, end as number, RESPONSE_LIMITS);
  assert.ok('versionMinor' in head, `refused: ${JSON.stringify(head)}`);
  return head;
}

/** The kind the parser gave the field called `name` (exact spelling). */
function parsedKind(head: RequestHead | ResponseHead, name: string): number {
  assert.equal(head.fieldKinds.length * 2, head.headers.length, 'one kind per field');
  const index = head.headers.findIndex((h, i) => i % 2 === 0 && h === name);
  assert.notEqual(index, -1, `${name} parsed`);
  return head.fieldKinds[index / 2]!;
}

const names = (flat: readonly string[]): string[] => flat.filter((_, i) => i % 2 === 0);

describe('field kinds', () => {
  it('the table gives each name its own index below KIND_COUNT, and exactly the documented hop-by-hop and proxy-set names', () => {
    const indexes = FIELD_KINDS.map(([, kind]) => kind & KIND_INDEX);
    assert.equal(new Set(indexes).size, FIELD_KINDS.length, 'one index per name');
    assert.ok(indexes.every((i) => i > 0 && i < KIND_COUNT), 'per-kind tables are sized by KIND_COUNT');
    assert.deepEqual([...HOP_BY_HOP_HEADERS].sort(), HOP_BY_HOP_NAMES.map((n) => n.toLowerCase()).sort());
    const setByProxy = FIELD_KINDS.filter(([, kind]) => (kind & SET_BY_PROXY) !== 0).map(([name]) => name);
    assert.deepEqual(setByProxy.sort(), SET_BY_PROXY_NAMES.map((n) => n.toLowerCase()).sort());
  });

  it('every hop-by-hop name, in any case, is classified so by the parser and dropped in both directions', () => {
    for (const base of HOP_BY_HOP_NAMES) {
      for (const name of spellings(base)) {
        const fields = [[name, valueFor(name)], ['X-Kept', '1']];
        const req = request(fields);
        assert.ok((parsedKind(req, name) & HOP_BY_HOP) !== 0, `${name} in a request`);
        assert.equal(fieldKind(name), parsedKind(req, name), `${name}: the rewriting's own classification agrees`);
        for (const kinds of [req.fieldKinds, undefined]) {
          const forwarded = names(readClientHead(req.headers, 'x-request-id', kinds).forwarded);
          assert.ok(!forwarded.includes(name) && forwarded.includes('X-Kept'), `${name} dropped from the request (${kinds === undefined ? 'own' : "parser's"} kinds)`);
        }
        const res = response(fields);
        assert.ok((parsedKind(res, name) & HOP_BY_HOP) !== 0, `${name} in a response`);
        for (const kinds of [res.fieldKinds, undefined]) {
          const relayed = names(clientResponseHeaders(res.headers, false, 'x-request-id', kinds));
          assert.deepEqual(relayed, ['X-Kept'], `${name} dropped from the response`);
        }
      }
    }
  });

  it('the headers the proxy sets itself are taken out of the request in any case, their values kept for it', () => {
    for (const base of SET_BY_PROXY_NAMES) {
      for (const name of spellings(base)) {
        const req = request([[name, valueFor(name)], ['X-Kept', '1']]);
        assert.ok((parsedKind(req, name) & SET_BY_PROXY) !== 0, name);
        const head = readClientHead(req.headers, undefined, req.fieldKinds);
        assert.deepEqual(names(head.forwarded), ['X-Kept'], `${name} not forwarded as sent`);
        assert.deepEqual(readClientHead(req.headers), head, `${name}: same head from the rewriting's own classification`);
        const lower = base.toLowerCase();
        if (lower === 'x-forwarded-for') assert.equal(head.forwardedFor, 'v');
        if (lower === 'via') assert.equal(head.via, 'v');
        if (lower === 'host') assert.equal(head.host, 'v');
      }
    }
  });

  it('a name one character off a classified one is forwarded like any other', () => {
    for (const name of NEAR_MISSES) {
      assert.equal(fieldKind(name), OTHER, name);
      const req = request([[name, 'v']]);
      assert.equal(parsedKind(req, name), OTHER, `${name} as parsed`);
      assert.ok(names(readClientHead(req.headers, undefined, req.fieldKinds).forwarded).includes(name), `${name} forwarded`);
      assert.deepEqual(names(clientResponseHeaders(response([[name, 'v']]).headers, false)), [name], `${name} relayed`);
    }
  });

  it('the request-ID header is recognised in any case, and a configured name with _ ^ ~ only as itself', () => {
    assert.equal(readClientHead(['X-REQUEST-Id', 'abc', 'x-request-ie', 'no'], 'x-request-id').requestId, 'abc');
    // `^` and `~` differ by 0x20, `_` becomes DEL under `| 0x20`: only an exact fold tells them apart.
    const head = readClientHead(['x~id', 'tilde', 'X^ID', 'caret', 'x_id', 'underscore'], 'x^id');
    assert.equal(head.requestId, 'caret');
    assert.deepEqual(head.forwarded, ['x~id', 'tilde', 'x_id', 'underscore']);
    assert.equal(readClientHead(['X_ID', 'underscore'], 'x_id').requestId, 'underscore');
    assert.deepEqual(clientResponseHeaders(['x~id', 'tilde', 'X^Id', 'caret'], false, 'x^id'), ['x~id', 'tilde']);
  });

  it('Connection, Content-Length, Transfer-Encoding and Via are read from the kinds with their values', () => {
    const req = request([['CONTENT-LENGTH', '12'], ['connection', 'keep-alive, X-Debug'], ['X-Debug', '1'], ['VIA', '1.0 a'], ['via', '1.0 b']]);
    const head = readClientHead(req.headers, undefined, req.fieldKinds);
    assert.equal(head.contentLength, 12);
    assert.equal(head.via, '1.0 a, 1.0 b');
    assert.deepEqual(head.forwarded, ['CONTENT-LENGTH', '12']);
    const res = response([['Via', '1.1 up'], ['Connection', 'X-Debug'], ['x-debug', '1'], ['Content-Type', 'text/plain']]);
    assert.deepEqual(clientResponseHeaders(res.headers, true, undefined, res.fieldKinds), ['Content-Type', 'text/plain', 'via', '1.1 up, 1.1 reverse-proxy']);
    assert.equal(readClientHead(request([['Transfer-Encoding', 'chunked']]).headers).chunked, true);
  });
});

describe('names and values handed out again', () => {
  it('are the bytes of each message: spelling and value changes are never masked by the last message', () => {
    // Same length, first and last byte: the same remembered slot for names, the same kind for values.
    const spellingsSeen = ['Date', 'DATE', 'date', 'Dote', 'Date'];
    const values = ['Wed, 02 Dec 2026 04:00:00 GMT', 'Wed, 02 Dec 2026 04:00:01 GMT', 'Wed, 02 Dec 2026 04:00:01 GMT', 'x'.repeat(300), 'x'.repeat(299) + 'y'];
    spellingsSeen.forEach((name, i) => {
      const res = response([[name, values[i]!], ['content-type', `text/${i}`]]);
      assert.deepEqual(res.headers, [name, values[i], 'content-type', `text/${i}`]);
    });
    for (const host of ['a.test', 'b.test', 'b.test', 'B.test', 'a.test']) {
      assert.equal(request([['Host', host]]).host, host);
    }
  });

});
