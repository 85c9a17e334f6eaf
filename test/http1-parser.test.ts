// The HTTP/1.1 parser and chunked decoder against the conformance corpus (test/http1/), fed in
// one piece, byte by byte and in random splits: every case must give its expected outcome, and
// the same outcome however the bytes arrive. Plus the contract details the corpus cannot show.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from '../src/proxy/http1/chunked.ts';
import type { RequestHead } from '../src/proxy/http1/message.ts';
import { REQUEST_REFUSALS, RESPONSE_REFUSALS } from '../src/proxy/http1/parse-errors.ts';
import { findHeadEnd, parseRequestHead, parseResponseHead } from '../src/proxy/http1/parser.ts';
import { REQUEST_LIMITS, RESPONSE_LIMITS, isRefused, type AcceptedRequest, type AcceptedResponse, type Refused } from './http1/cases.ts';
import { everyByte, feed, randomCuts, type Outcome, type Side } from './http1/feed.ts';
import { seededRandom as random } from './helpers/seeded-random.ts';
import { REQUEST_CASES } from './http1/request-cases.ts';
import { RESPONSE_CASES } from './http1/response-cases.ts';

function assertExpected(outcome: Outcome, expect: Refused | AcceptedRequest | AcceptedResponse, side: Side['side']): void {
  if (isRefused(expect)) {
    assert.equal(outcome.kind, 'refused', `expected ${expect.code}, got ${JSON.stringify(outcome)}`);
    if (outcome.kind !== 'refused') return;
    assert.equal(outcome.refusal.code, expect.code);
    assert.equal(outcome.inBody, expect.inBody === true, 'refused in the head or in the body');
    // The decoder reports framing errors with 400; the pool turns any refused response into 502.
    if (side === 'request' || !outcome.inBody) assert.equal(outcome.refusal.status, expect.status);
    return;
  }
  assert.equal(outcome.kind, 'parsed', `expected a message, got ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'parsed') return;
  const got: Record<string, unknown> = { ...outcome.head, framing: outcome.framing, body: outcome.body };
  for (const [key, value] of Object.entries(expect)) {
    if (key === 'answeredByProxy') continue;
    assert.deepEqual(got[key], value, `${key}`);
  }
}

function checkCase(bytes: string, expect: Refused | AcceptedRequest | AcceptedResponse, how: Side, seed: number): void {
  const buf = Buffer.from(bytes, 'latin1');
  const whole = feed(buf, [], how);
  assertExpected(whole, expect, how.side);
  if (whole.kind === 'parsed') assert.equal(whole.end, buf.length, 'the message ends exactly where its bytes end');
  const next = random(seed);
  const splits = [everyByte(buf.length), ...Array.from({ length: 8 }, (_, i) => randomCuts(buf.length, 1 + i * 3, next))];
  for (const cuts of splits) {
    assert.deepEqual(feed(buf, cuts, how), whole, `split at ${cuts.length > 40 ? `${cuts.length} cuts` : cuts.join(',')}`);
  }
}

describe('request corpus', () => {
  REQUEST_CASES.forEach((c, i) => {
    it(`${c.name} [${c.rule}]`, () => checkCase(c.bytes, c.expect, { side: 'request', limits: REQUEST_LIMITS }, 1000 + i));
  });
});

describe('response corpus', () => {
  RESPONSE_CASES.forEach((c, i) => {
    it(`${c.name} [${c.rule}]`, () => checkCase(c.bytes, c.expect, { side: 'response', limits: RESPONSE_LIMITS, requestMethod: c.requestMethod }, 2000 + i));
  });
});

describe('corpus coverage', () => {
  const refusalCodes = new Set([...Object.values(REQUEST_REFUSALS), ...Object.values(RESPONSE_REFUSALS)].map((r) => r.code));
  // A headEnd that does not close the head is the caller's mistake, not bytes on the wire (see below).
  refusalCodes.delete(REQUEST_REFUSALS.incompleteHead.code);

  it('every refusal the parser can give has a case in the corpus', () => {
    const covered = new Set([...REQUEST_CASES, ...RESPONSE_CASES].flatMap((c) => (isRefused(c.expect) ? [c.expect.code] : [])));
    assert.deepEqual([...refusalCodes].filter((code) => !covered.has(code)), []);
  });

  it('docs/data-path.md lists every refusal code', async () => {
    const docs = await readFile(new URL('../docs/data-path.md', import.meta.url), 'utf8');
    const section = docs.slice(docs.indexOf('## What the parser refuses'));
    assert.deepEqual([...refusalCodes].filter((code) => !section.includes(`\`${code}\``)), []);
  });
});

describe('parser contract', () => {
  const request = (text: string) => Buffer.from(text, 'latin1');

  it('parses a second pipelined head from where the first ended, and ignores bytes past `end`', () => {
    const buf = request('GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: b\r\n\r\nGET /thr');
    const first = findHeadEnd(buf, 0, 0, buf.length, REQUEST_LIMITS, 'request') as number;
    const one = parseRequestHead(buf, 0, first, REQUEST_LIMITS) as RequestHead;
    assert.equal(one.target, '/one');
    assert.equal(one.headLength, first);
    const second = findHeadEnd(buf, first, first, buf.length, REQUEST_LIMITS, 'request') as number;
    const two = parseRequestHead(buf, first, second, REQUEST_LIMITS) as RequestHead;
    assert.deepEqual([two.target, two.host, two.headLength], ['/two', 'b', second - first]);
    assert.equal(findHeadEnd(buf, second, second, buf.length, REQUEST_LIMITS, 'request'), -1, 'the third head has not arrived');
    // A head whose end lies past `end` is not found, however the buffer continues.
    assert.equal(findHeadEnd(buf, 0, 0, first - 1, REQUEST_LIMITS, 'request'), -1);
  });

  it('refuses a headEnd that does not close the head instead of reading past it', () => {
    const buf = request('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n');
    assert.equal(parseRequestHead(buf, 0, 26, REQUEST_LIMITS), REQUEST_REFUSALS.incompleteHead);
  });

  it('accepts a Content-Length of exactly 2^53 − 1', () => {
    const buf = request('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740991\r\n\r\n');
    const head = parseRequestHead(buf, 0, buf.length, REQUEST_LIMITS) as RequestHead;
    assert.equal(head.contentLength, Number.MAX_SAFE_INTEGER);
  });

  it('builds no refusal per message: the same frozen value every time, 502 on the response side', () => {
    const bad = request('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    const first = parseRequestHead(bad, 0, bad.length, REQUEST_LIMITS);
    assert.equal(first, parseRequestHead(bad, 0, bad.length, REQUEST_LIMITS));
    assert.ok(Object.isFrozen(first));
    const response = request('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n');
    assert.deepEqual(parseResponseHead(response, 0, response.length, RESPONSE_LIMITS), { ...REQUEST_REFUSALS.duplicateContentLength, status: 502 });
    for (const refusal of Object.values(RESPONSE_REFUSALS)) assert.equal(refusal.status, 502, refusal.code);
  });

  it('the decoder hands on views of the caller buffer, and can be reset for the next message', () => {
    const buf = request('3\r\nabc\r\n0\r\n\r\n2\r\nxy\r\n0\r\n\r\n');
    const decoder = new ChunkedDecoder();
    const seen: Buffer[] = [];
    const stop = decoder.decode(buf, 0, buf.length, (chunk) => seen.push(chunk));
    assert.equal(stop, 13);
    assert.ok(decoder.done);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.buffer, buf.buffer, 'a view, not a copy');
    assert.equal(decoder.decode(buf, stop, buf.length, () => assert.fail('done: nothing more is decoded')), stop);
    decoder.reset();
    let second = '';
    assert.equal(decoder.decode(buf, stop, buf.length, (chunk) => (second += chunk)), buf.length);
    assert.equal(second, 'xy');
  });

  it('the decoder keeps answering its refusal until reset', () => {
    const decoder = new ChunkedDecoder();
    const bad = request('zz\r\n');
    assert.equal(decoder.decode(bad, 0, bad.length, () => undefined), REQUEST_REFUSALS.chunkSize);
    const good = request('0\r\n\r\n');
    assert.equal(decoder.decode(good, 0, good.length, () => undefined), REQUEST_REFUSALS.chunkSize);
    decoder.reset();
    assert.equal(decoder.decode(good, 0, good.length, () => undefined), good.length);
  });

  it('the chunk-size line limit counts one line, across reads, and starts again at the next line', () => {
    const body = request(`${'1;ext\r\nx\r\n'.repeat(2_000)}0\r\n\r\n`);
    const decoder = new ChunkedDecoder({ maxChunkLineBytes: 16 });
    let data = 0;
    for (let from = 0; from < body.length; from += 5) {
      const stopped = decoder.decode(body, from, Math.min(body.length, from + 5), (chunk) => (data += chunk.length));
      assert.equal(typeof stopped, 'number');
    }
    assert.ok(decoder.done);
    assert.equal(data, 2_000);
    const long = new ChunkedDecoder({ maxChunkLineBytes: 16 });
    const line = request('1;abcdefghijklmnop\r\n');
    assert.equal(long.decode(line, 0, 10, () => undefined), 10);
    assert.equal(long.decode(line, 10, line.length, () => undefined), REQUEST_REFUSALS.chunkLineTooLong);
  });

  it('the decoder limits are configurable', () => {
    const decoder = new ChunkedDecoder({ maxChunkLineBytes: 8, maxTrailerBytes: 8 });
    const line = request('5;abcdefgh\r\n');
    assert.equal(decoder.decode(line, 0, line.length, () => undefined), REQUEST_REFUSALS.chunkLineTooLong);
    const trailers = new ChunkedDecoder({ maxTrailerBytes: 8 });
    const body = request('0\r\nX-Long: 123456\r\n\r\n');
    assert.equal(trailers.decode(body, 0, body.length, () => undefined), REQUEST_REFUSALS.trailersTooLarge);
  });
});
