// CaptureBatch: the zero-copy view over a batch of captured packets (the addon's layout: records, then packet bytes).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureBatch, META_WORDS, writeRecordTime } from '../../src/packet/batch.js';

void describe('CaptureBatch', () => {
  const p0 = Buffer.from('0123456789');
  const p1 = Buffer.from('abc');
  const p2 = Buffer.alloc(0);
  // 2^32 + 5 seconds exercises the high word; 999_999_999 ns the top of the nanosecond range
  const ts0 = 1_700_000_000_123_456_789n;
  const ts1 = (2n ** 32n + 5n) * 1_000_000_000n + 999_999_999n;
  const batch = CaptureBatch.fromPackets(
    [{ data: p0, tsNs: ts0, origLen: 1514 }, { data: p1, tsNs: ts1 }, { data: p2 }],
    1,
  );

  void test('layout: records first, then the packets back to back', () => {
    assert.equal(META_WORDS, 6);
    assert.equal(batch.count, 3);
    assert.equal(batch.linkType, 1);
    assert.equal(batch.buffer.length, 3 * META_WORDS * 4 + 13);
    assert.equal(batch.bytes, 13);
    assert.equal(batch.offset(0), 72);
    assert.equal(batch.offset(1), 82);
    assert.equal(batch.offset(2), 85);
    const meta = new Uint32Array(batch.buffer.buffer, batch.buffer.byteOffset, 18);
    assert.deepEqual([...meta.subarray(0, 6)], [0, 10, 1514, Number(ts0 / 1_000_000_000n) >>> 0, 0, 123_456_789]);
    assert.deepEqual([...meta.subarray(6, 12)], [10, 3, 3, 5, 1, 999_999_999]);
  });

  void test('per-packet accessors', () => {
    assert.deepEqual([batch.caplen(0), batch.caplen(1), batch.caplen(2)], [10, 3, 0]);
    assert.deepEqual([batch.origLen(0), batch.origLen(1), batch.origLen(2)], [1514, 3, 0]);
    assert.deepEqual([batch.truncated(0), batch.truncated(1)], [true, false]);
    assert.equal(batch.data(0).toString(), '0123456789');
    assert.equal(batch.data(1).toString(), 'abc');
    assert.equal(batch.data(2).length, 0);
    assert.equal(batch.tsSec(0), 1_700_000_000);
    assert.equal(batch.tsNsec(0), 123_456_789);
    assert.equal(batch.tsNs(0), ts0);
    assert.equal(batch.tsSec(1), 2 ** 32 + 5);
    assert.equal(batch.tsNsec(1), 999_999_999);
    assert.equal(batch.tsNs(1), ts1);
    assert.equal(batch.tsNs(2), 0n);
  });

  void test('data(i) is a view into the batch buffer, not a copy', () => {
    const d = batch.data(1);
    assert.equal(d.buffer, batch.buffer.buffer);
    assert.equal(d.byteOffset, batch.buffer.byteOffset + batch.offset(1));
  });

  void test('indexes outside [0, count) or not integers throw RangeError', () => {
    for (const i of [-1, 3, 1.5, Number.NaN]) {
      assert.throws(() => batch.data(i), RangeError);
      assert.throws(() => batch.tsNs(i), RangeError);
    }
  });

  void test('a buffer that does not start 4-aligned still reads correctly', () => {
    const shifted = Buffer.alloc(batch.buffer.length + 1);
    batch.buffer.copy(shifted, 1);
    const view = new CaptureBatch(shifted.subarray(1), 3, 1);
    assert.equal(view.tsNs(1), ts1);
    assert.equal(view.data(0).toString(), '0123456789');
  });

  void test('records pointing past the end are refused', () => {
    const bad = Buffer.from(batch.buffer);
    new Uint32Array(bad.buffer, bad.byteOffset, 18)[7] = 1000; // caplen of packet 1
    assert.throws(() => new CaptureBatch(bad, 3, 1), /packet 1 ends at/);
    assert.throws(() => new CaptureBatch(Buffer.alloc(10), 1, 1), /do not fit/);
  });

  void test('an empty batch', () => {
    const e = CaptureBatch.fromPackets([], 101);
    assert.equal(e.count, 0);
    assert.equal(e.bytes, 0);
  });

  void test('nsSince: nanoseconds between packets as a number, no bigint', () => {
    assert.equal(batch.nsSince(0, batch.tsSec(0), batch.tsNsec(0)), 0);
    assert.equal(batch.nsSince(1, batch.tsSec(0), batch.tsNsec(0)), Number(ts1 - ts0));
    assert.equal(batch.nsSince(0, 1_700_000_001, 0), -876_543_211);
  });

  void test('copy(start, end): the packets in a batch of their own, the bytes copied', () => {
    const c = batch.copy(1, 3);
    assert.equal(c.count, 2);
    assert.equal(c.linkType, 1);
    assert.equal(c.bytes, 3);
    assert.equal(c.buffer.length, 2 * META_WORDS * 4 + 3);
    assert.equal(c.data(0).toString(), 'abc');
    assert.equal(c.tsNs(0), ts1);
    assert.equal(c.origLen(1), 0);
    c.data(0)[0] = 0x41;
    assert.equal(batch.data(1).toString(), 'abc', 'the original is not touched');
    assert.equal(batch.copy(2, 2).count, 0);
    assert.throws(() => batch.copy(2, 4), RangeError);
  });

  void test('records apart from the bytes (the file readers): offsets into the buffer, interface, flags', () => {
    const chunk = Buffer.from('..hello..world');
    const meta = new Uint32Array(2 * META_WORDS);
    meta.set([2, 5, 60], 0);
    writeRecordTime(meta, 0, -2, 500); // before the epoch: tsSecHi is two's complement
    meta.set([9, 5, 5], META_WORDS);
    writeRecordTime(meta, META_WORDS, 2 ** 33 + 7, 999_999_999);
    const b = new CaptureBatch(chunk, 2, 101, { meta, interfaceId: 3, epbFlags: Float64Array.from([-1, 2]) });
    assert.equal(b.buffer, chunk);
    assert.equal(b.interfaceId, 3);
    assert.equal(b.data(0).toString(), 'hello');
    assert.equal(b.data(1).toString(), 'world');
    assert.equal(b.data(1).buffer, chunk.buffer);
    assert.equal(b.offset(1), 9);
    assert.deepEqual([b.truncated(0), b.truncated(1)], [true, false]);
    assert.deepEqual([b.tsSec(0), b.tsNsec(0), b.tsNs(0)], [-2, 500, -1_999_999_500n]);
    assert.deepEqual([b.tsSec(1), b.tsNs(1)], [2 ** 33 + 7, (2n ** 33n + 7n) * 1_000_000_000n + 999_999_999n]);
    assert.deepEqual([b.epbFlags(0), b.epbFlags(1)], [undefined, 2]);
    assert.equal(batch.epbFlags(0), undefined);
    assert.throws(() => b.epbFlags(2), RangeError);
    const c = b.copy(0, 2);
    assert.deepEqual([c.interfaceId, c.epbFlags(1), c.data(1).toString(), c.tsSec(0)], [0, undefined, 'world', -2]);
    meta[META_WORDS] = 10; // packet 1 now runs past the chunk
    assert.throws(() => new CaptureBatch(chunk, 2, 101, { meta }), /packet 1 ends at 15/);
    assert.throws(() => new CaptureBatch(chunk, 3, 101, { meta }), /do not fit/);
  });
});
