// The packed batch format ThreadedRawSender hands to its worker: round trip, and malformed buffers
// refused with RangeError instead of reading past the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packBatch, unpackBatch } from '../../src/send/index.js';

void test('packBatch / unpackBatch round trip keeps order, lengths and bytes', () => {
  const packets = [Buffer.from('first'), Buffer.alloc(0), Buffer.from([0, 1, 2, 255]), Buffer.alloc(1500, 7)];
  const ab = packBatch(packets);
  assert.equal(ab.byteLength, 4 + 4 * 4 + 5 + 0 + 4 + 1500);
  const out = unpackBatch(ab);
  assert.equal(out.length, 4);
  out.forEach((p, i) => assert.deepEqual(p, packets[i]));
  assert.deepEqual(unpackBatch(packBatch([])), []);
});

void test('unpackBatch refuses truncated and lying buffers', () => {
  assert.throws(() => unpackBatch(new ArrayBuffer(2)), RangeError);
  const lengths = new ArrayBuffer(8);
  new Uint32Array(lengths)[0] = 5; // 5 packets announced, no room for their lengths
  assert.throws(() => unpackBatch(lengths), /does not hold its lengths/);
  const ab = packBatch([Buffer.from('abcd')]);
  assert.throws(() => unpackBatch(ab.slice(0, ab.byteLength - 1)), /ends past the buffer/);
});
