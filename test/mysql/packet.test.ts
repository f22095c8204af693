// MySQL packet framing: exact frames from encodePacket (cut at 0xffffff, empty final fragment,
// sequence wrap), and a reader that gives the same packets, offsets and wire lengths whatever the
// chunking, joins fragments, and refuses oversize or out-of-sequence input.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePacket, MAX_FRAGMENT, MysqlPacketReader, MysqlProtocolError } from '../../src/mysql/index.js';
import type { MysqlPacket } from '../../src/mysql/index.js';

function isError(code: string, offset: number) {
  return (e: unknown) => e instanceof MysqlProtocolError && e.code === code && e.offset === offset;
}

function summary(p: MysqlPacket): string {
  return `${p.seq}/${p.lastSeq}@${p.offset}+${p.wireLength}:${p.payload.toString('hex')}`;
}

describe('encodePacket', () => {
  test('small and empty payloads take one frame', () => {
    assert.equal(encodePacket(0, Buffer.from([0x0e])).toString('hex'), '010000000e');
    assert.equal(encodePacket(3, Buffer.alloc(0)).toString('hex'), '00000003');
    assert.equal(encodePacket(256 + 7, Buffer.from('ab')).toString('hex'), '0200000761' + '62');
  });

  test('a payload of exactly 0xffffff bytes is followed by an empty frame', () => {
    const out = encodePacket(255, Buffer.alloc(MAX_FRAGMENT, 7));
    assert.equal(out.length, 4 + MAX_FRAGMENT + 4);
    assert.equal(out.subarray(0, 4).toString('hex'), 'ffffffff');
    assert.equal(out.subarray(4 + MAX_FRAGMENT).toString('hex'), '00000000');
  });

  test('a longer payload is cut into fragments with rising sequence ids', () => {
    const payload = Buffer.alloc(MAX_FRAGMENT + 5, 1);
    const out = encodePacket(9, payload);
    assert.equal(out.length, payload.length + 8);
    assert.equal(out.subarray(0, 4).toString('hex'), 'ffffff09');
    assert.equal(out.subarray(4 + MAX_FRAGMENT, 8 + MAX_FRAGMENT).toString('hex'), '0500000a');
  });
});

describe('MysqlPacketReader', () => {
  const stream = Buffer.concat([
    encodePacket(0, Buffer.from('greeting')),
    encodePacket(1, Buffer.alloc(0)),
    encodePacket(2, Buffer.from([0x03, 0x53])),
  ]);
  const expected = ['0/0@0+12:6772656574696e67', '1/1@12+4:', '2/2@16+6:0353'];

  test('one push gives every packet with its offset and wire length', () => {
    const r = new MysqlPacketReader();
    assert.deepEqual(r.push(stream).map(summary), expected);
    assert.equal(r.pending(), 0);
  });

  test('byte by byte gives the same packets, and keeps the partial bytes', () => {
    const r = new MysqlPacketReader();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      got.push(...r.push(stream.subarray(i, i + 1)).map(summary));
      if (i === 2) assert.equal(r.pending(), 3);
    }
    assert.deepEqual(got, expected);
    assert.equal(r.pending(), 0);
  });

  test('any chunking of random packets gives the packets back', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        (payloads, cuts) => {
          const wire = Buffer.concat(payloads.map((p, i) => encodePacket(i, Buffer.from(p))));
          const r = new MysqlPacketReader();
          const got: MysqlPacket[] = [];
          let at = 0;
          for (let k = 0; at < wire.length; k++) {
            const n = cuts[k % cuts.length]!;
            got.push(...r.push(wire.subarray(at, at + n)));
            at += n;
          }
          assert.equal(got.length, payloads.length);
          let offset = 0;
          got.forEach((p, i) => {
            assert.deepEqual([...p.payload], [...payloads[i]!]);
            assert.equal(p.seq, i & 0xff);
            assert.equal(p.offset, offset);
            offset += p.wireLength;
          });
          assert.equal(offset, wire.length);
          assert.equal(r.pending(), 0);
        },
      ),
    );
  });

  test('fragments join into one packet; the next packet follows', () => {
    const big = Buffer.alloc(MAX_FRAGMENT * 2 + 3);
    big.writeUInt32LE(0xdeadbeef, MAX_FRAGMENT - 2);
    big[big.length - 1] = 9;
    const wire = Buffer.concat([encodePacket(254, big), encodePacket(0, Buffer.from([1]))]);
    const r = new MysqlPacketReader();
    const got: MysqlPacket[] = [];
    for (let at = 0; at < wire.length; at += 1 << 20) got.push(...r.push(wire.subarray(at, at + (1 << 20))));
    assert.equal(got.length, 2);
    assert.equal(got[0]!.seq, 254);
    assert.equal(got[0]!.lastSeq, 0);
    assert.equal(got[0]!.wireLength, big.length + 12);
    assert.ok(got[0]!.payload.equals(big));
    assert.equal(got[1]!.offset, big.length + 12);
    assert.equal(got[1]!.seq, 0);
  });

  test('a fragment out of sequence is MALFORMED at its header', () => {
    const first = encodePacket(4, Buffer.alloc(MAX_FRAGMENT)).subarray(0, 4 + MAX_FRAGMENT);
    const r = new MysqlPacketReader();
    assert.throws(
      () => r.push(Buffer.concat([first, Buffer.from('00000006', 'hex')])),
      isError('MALFORMED', 4 + MAX_FRAGMENT),
    );
  });

  test('a packet over the limit is refused from its header, and the reader stays failed', () => {
    const r = new MysqlPacketReader({ maxPacketSize: 100 });
    assert.deepEqual(r.push(encodePacket(0, Buffer.alloc(100))).length, 1);
    assert.throws(() => r.push(Buffer.from('65000001', 'hex')), isError('TOO_LARGE', 104));
    assert.throws(() => r.push(Buffer.from([0])), isError('TOO_LARGE', 104));
  });

  test('the limit counts the joined payload, not one fragment', () => {
    const r = new MysqlPacketReader({ maxPacketSize: MAX_FRAGMENT + 10 });
    const wire = encodePacket(0, Buffer.alloc(MAX_FRAGMENT + 11));
    assert.throws(() => r.push(wire), isError('TOO_LARGE', 0));
  });
});
