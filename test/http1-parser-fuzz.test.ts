// Property tests of the HTTP/1.1 parser and chunked decoder: a forbidden byte inserted anywhere
// in a valid head is always refused, random near-HTTP bytes never throw and never yield a head
// that breaks a rule, and random chunked bodies decode the same in any split. Seeded, so a
// failure names the seed that reproduces it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder } from '../src/proxy/http1/chunked.ts';
import type { ParseError, RequestHead } from '../src/proxy/http1/message.ts';
import { findHeadEnd, parseRequestHead } from '../src/proxy/http1/parser.ts';
import { REQUEST_LIMITS, isRefused } from './http1/cases.ts';
import { randomCuts } from './http1/feed.ts';
import { seededRandom as random } from './helpers/seeded-random.ts';
import { REQUEST_CASES } from './http1/request-cases.ts';

/** Whole-buffer parse: a head, a refusal, or 'incomplete'. */
function parse(buf: Buffer): RequestHead | ParseError | 'incomplete' {
  const end = findHeadEnd(buf, 0, 0, buf.length, REQUEST_LIMITS, 'request');
  if (end === -1) return 'incomplete';
  if (typeof end !== 'number') return end;
  assert.ok(end > 0 && end <= buf.length, `head end ${end} outside the buffer`);
  return parseRequestHead(buf, 0, end, REQUEST_LIMITS);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;

/** Every rule a parsed head must satisfy, checked on the output alone. */
function assertLawful(head: RequestHead, input: string): void {
  const where = JSON.stringify(input);
  assert.match(head.method, TOKEN, where);
  assert.match(head.target, /^(?:\/[\x21-\x7e\x80-\xff]*|\*|[\x21-\x7e\x80-\xff]+)$/, where);
  if (head.method !== 'CONNECT') assert.ok(head.target.startsWith('/') || (head.target === '*' && head.method === 'OPTIONS'), where);
  const names: string[] = [];
  for (let i = 0; i < head.headers.length; i += 2) {
    assert.match(head.headers[i]!, TOKEN, where);
    assert.match(head.headers[i + 1]!, FIELD_VALUE, where);
    names.push(head.headers[i]!.toLowerCase());
  }
  const count = (name: string) => names.filter((n) => n === name).length;
  assert.ok(count('host') <= 1 && count('content-length') <= 1 && count('transfer-encoding') <= 1, where);
  if (head.versionMinor === 1) assert.equal(count('host'), 1, where);
  if (count('transfer-encoding') === 1) {
    assert.equal(head.versionMinor, 1, where);
    assert.equal(count('content-length'), 0, where);
    assert.ok(head.chunked, where);
  }
  if (count('content-length') === 1) assert.ok(Number.isSafeInteger(head.contentLength) && head.contentLength >= 0, where);
}

describe('parser properties', () => {
  it('a NUL, CR, LF, control byte or DEL inserted anywhere in a valid head is always refused', () => {
    const forbidden = [0x00, 0x01, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f];
    let tried = 0;
    for (const c of REQUEST_CASES) {
      if (isRefused(c.expect)) continue;
      const bytes = Buffer.from(c.bytes, 'latin1');
      const headEnd = findHeadEnd(bytes, 0, 0, bytes.length, REQUEST_LIMITS, 'request') as number;
      if (headEnd > 2_000) continue; // the limit cases: thousands of positions add nothing
      for (let at = 0; at < headEnd - 1; at++) {
        for (const byte of forbidden) {
          const mutated = Buffer.concat([bytes.subarray(0, at), Buffer.of(byte), bytes.subarray(at)]);
          // A byte that breaks the final empty line leaves the head unfinished: finishing it must not help.
          let result = parse(mutated);
          if (result === 'incomplete') result = parse(Buffer.concat([mutated, Buffer.from('\r\n\r\n')]));
          tried++;
          assert.ok(result !== 'incomplete' && 'code' in result, `${c.name}: byte 0x${byte.toString(16)} at ${at} was accepted: ${JSON.stringify(mutated.toString('latin1'))}`);
        }
      }
    }
    assert.ok(tried > 10_000, `${tried} mutations`);
  });

  it('random near-HTTP heads never throw, and any head they yield obeys every rule', () => {
    const requestLines = ['GET / HTTP/1.1', 'GET / HTTP/1.0', 'POST /a?b HTTP/1.1', 'OPTIONS * HTTP/1.1', 'GET * HTTP/1.1', 'CONNECT h:443 HTTP/1.1', 'GET http://h/x HTTP/1.1', 'GET http://u@h/ HTTP/1.1', 'GET / HTTP/2.0', 'GET  / HTTP/1.1', 'get /\xe9 HTTP/1.1'];
    const lines = ['Host: h', 'host:h2', 'Host: h/x', 'Content-Length: 5', 'content-length: 0', 'Content-Length: 5, 5', 'Content-Length: +1', 'Transfer-Encoding: chunked', 'transfer-encoding: gzip', 'Connection: close', 'Connection: keep-alive, upgrade', 'Upgrade: websocket', 'Expect: 100-continue', 'X-A: \t b \t', 'X-A:', 'X-A : b', ' folded', 'X-\xe9: v', 'X-V: caf\xe9'];
    const noise = ['\r', '\n', '\t', ' ', ':', '\x00', '\x7f', '\x01', ','];
    const pick = <T>(list: T[], next: () => number): T => list[Math.floor(next() * list.length)]!;
    const next = random(42);
    let heads = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = `${pick(requestLines, next)}\r\n`;
      const count = Math.floor(next() * 6);
      for (let j = 0; j < count; j++) {
        let line = pick(lines, next);
        if (next() < 0.15) {
          const at = Math.floor(next() * (line.length + 1));
          line = line.slice(0, at) + pick(noise, next) + line.slice(at);
        }
        text += `${line}\r\n`;
      }
      text += '\r\n';
      const result = parse(Buffer.from(text, 'latin1'));
      if (result !== 'incomplete' && !('code' in result)) {
        heads++;
        assertLawful(result, text);
      }
    }
    assert.ok(heads > 1_000, `only ${heads} of the random heads parsed: the generator is too noisy to prove anything`);
  });

  it('a random valid chunked body decodes to its data in any split, and stops exactly at its end', () => {
    const next = random(7);
    for (let i = 0; i < 2_000; i++) {
      let wire = '';
      let data = '';
      const chunks = Math.floor(next() * 5);
      for (let j = 0; j < chunks; j++) {
        const piece = 'x'.repeat(1 + Math.floor(next() * 40)).replace(/x/g, () => String.fromCharCode(32 + Math.floor(next() * 95)));
        const size = piece.length.toString(16);
        wire += `${next() < 0.5 ? size.toUpperCase() : `00${size}`}${next() < 0.3 ? ';ext="v;1"' : ''}\r\n${piece}\r\n`;
        data += piece;
      }
      wire += `0\r\n${next() < 0.5 ? 'X-Trailer: t\r\n' : ''}\r\n`;
      const bytes = Buffer.from(`${wire}NEXT`, 'latin1');
      const messageEnd = wire.length;
      const cuts = randomCuts(bytes.length, Math.floor(next() * 10), next);
      const decoder = new ChunkedDecoder();
      let got = '';
      let stopped = -1;
      let from = 0;
      for (const to of [...cuts, bytes.length]) {
        const result = decoder.decode(bytes, from, to, (chunk) => (got += chunk.toString('latin1')));
        assert.equal(typeof result, 'number', `refused ${JSON.stringify(wire)}`);
        from = to;
        if (decoder.done) {
          stopped = result as number;
          break;
        }
      }
      assert.equal(got, data, JSON.stringify(wire));
      assert.equal(stopped, messageEnd, JSON.stringify(wire));
    }
  });

  it('random bytes into the chunked decoder never throw, never hand on more than they hold, never stop past the end', () => {
    const alphabet = '0123456789abcdefABCDEFxz;= \t\r\n:\x00X';
    const next = random(99);
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const length = Math.floor(next() * 40);
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)];
      const bytes = Buffer.from(text, 'latin1');
      let handed = 0;
      const result = new ChunkedDecoder().decode(bytes, 0, bytes.length, (chunk) => (handed += chunk.length));
      assert.ok(handed <= bytes.length, JSON.stringify(text));
      if (typeof result === 'number') assert.ok(result >= 0 && result <= bytes.length, JSON.stringify(text));
      else assert.match(result.code, /^ERR_/);
    }
  });
});
