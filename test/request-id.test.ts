// Request IDs made by a worker are unique and header-safe; usable incoming ones are kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_REQUEST_ID_LENGTH, RequestIds, usableRequestId } from '../src/proxy/request-id.ts';

test('made IDs are unique per worker and across workers; incoming ones are kept only when usable', () => {
  const a = new RequestIds('x-request-id');
  const b = new RequestIds('x-request-id');
  const made = new Set(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).next()));
  assert.equal(made.size, 1000);
  for (const id of made) assert.match(id, /^[0-9a-f]{16}-[0-9a-z]+$/);
  assert.equal(a.keepOrMake('abc-123'), 'abc-123');
  for (const bad of ['', 'has space', 'tab\there', 'é', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1)]) {
    assert.equal(usableRequestId(bad), false, JSON.stringify(bad));
    assert.match(a.keepOrMake(bad), /^[0-9a-f]{16}-/);
  }
  assert.equal(usableRequestId('x'.repeat(MAX_REQUEST_ID_LENGTH)), true);
});
