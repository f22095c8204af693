// emitSegment's fast path writes the same bytes as the general buildTcpPacket (which the packet
// layer's tests check against tshark), for random segments of both IP versions and every option
// mix the engine emits; other options take the general path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildTcpPacket,
  verifyIpv4HeaderChecksum,
  PacketDecoder,
  SegmentArena,
  SegmentWriter,
  emitSegment,
} from '../../src/packet/index.js';
import type { TcpOption, TcpSegment } from '../../src/packet/index.js';
import { Prng } from './prng.js';

/** Uniform integer in [lo, hi]. */
function int(r: Prng, lo: number, hi: number): number {
  return lo + r.below(hi - lo + 1);
}

function randomOptions(r: Prng): TcpOption[] {
  const pool: (() => TcpOption)[] = [
    () => ({ kind: 'nop' }),
    () => ({ kind: 'mss', value: int(r, 0, 0xffff) }),
    () => ({ kind: 'wscale', shift: int(r, 0, 14) }),
    () => ({ kind: 'sackPermitted' }),
    () => ({ kind: 'timestamps', tsval: int(r, 0, 0xffffffff), tsecr: int(r, 0, 0xffffffff) }),
  ];
  const n = int(r, 0, 4);
  return Array.from({ length: n }, () => pool[int(r, 0, pool.length - 1)]!());
}

function randomSegment(r: Prng): TcpSegment {
  const version = int(r, 0, 3) === 0 ? 6 : 4;
  return {
    family: version,
    src:
      version === 4
        ? `10.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 0, 255)}`
        : `fd77::${int(r, 0, 0xffff).toString(16)}`,
    dst: version === 4 ? `192.168.${int(r, 0, 255)}.${int(r, 1, 254)}` : `2001:db8::${int(r, 1, 0xffff).toString(16)}`,
    srcPort: int(r, 0, 65535),
    dstPort: int(r, 0, 65535),
    seq: int(r, 0, 0xffffffff),
    ack: int(r, 0, 0xffffffff),
    flags: int(r, 0, 0x1ff),
    window: int(r, 0, 65535),
    // now and then an option of a kind only the general builder writes
    options: int(r, 0, 9) === 0 ? [{ kind: 'sack', blocks: [{ left: 10, right: 20 }] }] : randomOptions(r),
    payload: Buffer.from(Array.from({ length: int(r, 0, 3) === 0 ? 0 : int(r, 1, 1460) }, () => int(r, 0, 255))),
  };
}

void test('SegmentArena: packets back to back, byte-equal to emitSegment, across growth and reset', () => {
  const r = new Prng(11);
  const arena = new SegmentArena(256, 2);
  for (let round = 0; round < 20; round++) {
    const segs = Array.from({ length: int(r, 1, 60) }, () => randomSegment(r));
    const ids = segs.map(() => int(r, 0, 0xffff));
    arena.reset();
    segs.forEach((seg, k) => arena.add(seg, ids[k]));
    const expected = segs.map((seg, k) => emitSegment(seg, ids[k]));
    assert.equal(arena.count, segs.length);
    assert.deepEqual(
      Array.from(arena.lengths.subarray(0, arena.count)),
      expected.map((e) => e.length),
    );
    assert.deepEqual(arena.bytes, Buffer.concat(expected), `round ${round}`);
    assert.deepEqual(arena.packets(), expected);
  }
});

void test('fast path equals buildTcpPacket on 5,000 random segments', () => {
  const r = new Prng(7);
  for (let i = 0; i < 5000; i++) {
    const version = int(r, 0, 3) === 0 ? 6 : 4;
    const seg: TcpSegment = {
      family: version,
      src:
        version === 4
          ? `10.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 0, 255)}`
          : `fd77::${int(r, 0, 0xffff).toString(16)}:${int(r, 0, 0xffff).toString(16)}`,
      dst:
        version === 4 ? `192.168.${int(r, 0, 255)}.${int(r, 1, 254)}` : `2001:db8::${int(r, 1, 0xffff).toString(16)}`,
      srcPort: int(r, 0, 65535),
      dstPort: int(r, 0, 65535),
      seq: int(r, 0, 0xffffffff),
      ack: int(r, 0, 0xffffffff),
      flags: int(r, 0, 0x1ff),
      window: int(r, 0, 65535),
      options: randomOptions(r),
      payload: Buffer.from(Array.from({ length: int(r, 0, 3) === 0 ? 0 : int(r, 1, 1460) }, () => int(r, 0, 255))),
    };
    const ipId = int(r, 0, 0xffff);
    const expected = buildTcpPacket({ ...seg, options: [...seg.options], id: ipId });
    assert.deepEqual(
      emitSegment(seg, ipId),
      expected,
      `segment ${i}: ${JSON.stringify({ ...seg, payload: seg.payload.length })}`,
    );
  }
});

void test('other options take the general path; the packet decodes and verifies', () => {
  const seg: TcpSegment = {
    family: 4,
    src: '10.77.0.1',
    dst: '10.77.0.3',
    srcPort: 40000,
    dstPort: 8080,
    seq: 1,
    ack: 2,
    flags: 0x18,
    window: 512,
    options: [{ kind: 'sack', blocks: [{ left: 10, right: 20 }] }],
    payload: Buffer.from('abc'),
  };
  const out = emitSegment(seg);
  assert.deepEqual(out, buildTcpPacket({ ...seg, options: [...seg.options] }));
  assert.ok(verifyIpv4HeaderChecksum(out, 0, 20));
  const d = new PacketDecoder();
  assert.ok(d.decode(out, 0, out.length, 228));
  assert.ok(d.verifyIpChecksum() && d.verifyTcpChecksum());
});

void test('a writer whose address cache keeps starting over writes the same bytes', () => {
  const r = new Prng(5);
  const writer = new SegmentWriter(2);
  for (let i = 0; i < 500; i++) {
    const seg = randomSegment(r);
    const ipId = int(r, 0, 0xffff);
    assert.deepEqual(
      writer.emit(seg, ipId),
      buildTcpPacket({ ...seg, options: [...seg.options], id: ipId }),
      `segment ${i}`,
    );
  }
});
