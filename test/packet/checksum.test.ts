// Internet checksum: RFC 1071 example, known headers, pseudo-headers, and RFC 1624 incremental
// updates checked against full recomputation on random rewrites.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  onesSum,
  foldSum,
  internetChecksum,
  ipv4HeaderChecksum,
  verifyIpv4HeaderChecksum,
  pseudoSumV4,
  pseudoSumV6,
  transportChecksum,
  verifyTransportChecksum,
  checksumUpdate16,
  checksumUpdate32,
  writeU16Adjusting,
  writeU32Adjusting,
  buildTcpPacket,
  TcpFlags,
  PacketDecoder,
  LinkType,
} from '../../src/packet/index.js';
import { Prng } from './prng.js';

describe('RFC 1071 checksum', () => {
  test('the RFC 1071 section 3 example sums to ddf2', () => {
    const data = Buffer.from('0001f203f4f5f6f7', 'hex');
    assert.equal(foldSum(onesSum(data, 0, 8)), 0xddf2);
    assert.equal(internetChecksum(data, 0, 8), 0x220d);
  });

  test('odd length pads the last byte as a high byte', () => {
    const data = Buffer.from('0001f203f4f5f6f7ab', 'hex');
    // ddf2 + ab00 = 188f2 -> 88f3
    assert.equal(foldSum(onesSum(data, 0, 9)), 0x88f3);
    assert.equal(internetChecksum(data, 0, 9), 0x770c);
    // An offset inside a larger buffer reads only the given range.
    const wrapped = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), data, Buffer.from([0xee])]);
    assert.equal(internetChecksum(wrapped, 3, 9), 0x770c);
  });

  test('empty range and all-zero data', () => {
    assert.equal(internetChecksum(Buffer.alloc(0), 0, 0), 0xffff);
    assert.equal(internetChecksum(Buffer.alloc(20), 0, 20), 0xffff);
  });

  test('a known IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) has checksum b861', () => {
    const h = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    assert.equal(ipv4HeaderChecksum(h, 0, 20), 0xb861);
    assert.equal(verifyIpv4HeaderChecksum(h, 0, 20), false);
    h.writeUInt16BE(0xb861, 10);
    assert.equal(verifyIpv4HeaderChecksum(h, 0, 20), true);
    // ipv4HeaderChecksum ignores the stored value.
    assert.equal(ipv4HeaderChecksum(h, 0, 20), 0xb861);
  });

  test('large sums fold correctly (64 KiB of 0xff)', () => {
    const b = Buffer.alloc(65536, 0xff);
    assert.equal(foldSum(onesSum(b, 0, b.length)), 0xffff);
    assert.equal(foldSum(0x1_0000_0000 * 3 + 5), foldSum(3 + 5)); // 2^32 ≡ 1 (mod 0xffff)
  });
});

describe('pseudo-header sums', () => {
  test('IPv4 pseudo-header equals the explicit 12-byte header sum', () => {
    const src = Buffer.from([10, 77, 0, 1]);
    const dst = Buffer.from([10, 77, 0, 2]);
    const explicit = Buffer.concat([src, dst, Buffer.from([0, 6, 0x05, 0xdc])]);
    assert.equal(foldSum(pseudoSumV4(src, 0, dst, 0, 6, 1500)), foldSum(onesSum(explicit, 0, 12)));
  });

  test('IPv6 pseudo-header equals the explicit 40-byte header sum', () => {
    const prng = new Prng(7);
    const src = prng.bytes(16);
    const dst = prng.bytes(16);
    const len = 0x12345;
    const explicit = Buffer.alloc(40);
    src.copy(explicit, 0);
    dst.copy(explicit, 16);
    explicit.writeUInt32BE(len, 32);
    explicit[39] = 6;
    assert.equal(foldSum(pseudoSumV6(src, 0, dst, 0, 6, len)), foldSum(onesSum(explicit, 0, 40)));
  });

  test('a built TCP packet verifies and its checksum equals a full recomputation', () => {
    for (const family of [4, 6] as const) {
      const pkt = buildTcpPacket({
        family,
        src: family === 4 ? '10.77.0.1' : 'fd77::1',
        dst: family === 4 ? '10.77.0.2' : 'fd77::2',
        srcPort: 40000,
        dstPort: 80,
        seq: 0xfffffff0,
        ack: 1,
        flags: TcpFlags.ACK | TcpFlags.PSH,
        window: 512,
        payload: Buffer.from('hello, world!'),
      });
      const ipLen = family === 4 ? 20 : 40;
      const segLen = pkt.length - ipLen;
      const ps = family === 4 ? pseudoSumV4(pkt, 12, pkt, 16, 6, segLen) : pseudoSumV6(pkt, 8, pkt, 24, 6, segLen);
      assert.equal(verifyTransportChecksum(pkt, ipLen, segLen, ps), true);
      assert.equal(transportChecksum(pkt, ipLen, segLen, ps, 16), pkt.readUInt16BE(ipLen + 16));
      pkt[pkt.length - 1]! ^= 1;
      assert.equal(verifyTransportChecksum(pkt, ipLen, segLen, ps), false);
    }
  });
});

describe('RFC 1624 incremental update', () => {
  test('16-bit updates equal a full recomputation on random data', () => {
    const prng = new Prng(0x1624);
    for (let iter = 0; iter < 3000; iter++) {
      const words = 2 + prng.below(40);
      const data = prng.bytes(words * 2);
      // Real headers are never all zero (version, lengths); keep a non-zero word outside the change.
      const at = 2 + 2 * prng.below(words - 1);
      if (iter % 7 === 0) data.fill(0, 2);
      data[0] = 0x45;
      const hc = internetChecksum(data, 0, data.length);
      const oldWord = data.readUInt16BE(at);
      const newWord = iter % 5 === 0 ? (iter % 2 === 0 ? 0 : 0xffff) : prng.u32() & 0xffff;
      data.writeUInt16BE(newWord, at);
      const full = internetChecksum(data, 0, data.length);
      const inc = checksumUpdate16(hc, oldWord, newWord);
      assert.equal(inc, full, `iter ${iter}: ${inc.toString(16)} != ${full.toString(16)}`);
    }
  });

  test('all-zero data is the one corner where eqn. 3 yields the other zero (0000 vs ffff)', () => {
    const data = Buffer.alloc(8);
    data.writeUInt16BE(0x1234, 2);
    const hc = internetChecksum(data, 0, 8);
    assert.equal(hc, 0xedcb);
    data.writeUInt16BE(0, 2); // the data becomes all zero
    assert.equal(internetChecksum(data, 0, 8), 0xffff);
    assert.equal(checksumUpdate16(hc, 0x1234, 0), 0x0000);
  });

  test('32-bit updates equal a full recomputation on random data', () => {
    const prng = new Prng(0xbeef);
    for (let iter = 0; iter < 3000; iter++) {
      const words = 2 + prng.below(40);
      const data = prng.bytes(words * 2);
      const hc = internetChecksum(data, 0, data.length);
      const at = 2 * prng.below(words - 1);
      const oldValue = data.readUInt32BE(at);
      const newValue = prng.u32();
      data.writeUInt32BE(newValue, at);
      assert.equal(checksumUpdate32(hc, oldValue, newValue), internetChecksum(data, 0, data.length), `iter ${iter}`);
    }
  });

  test('random address/port/seq rewrites of real-shaped packets keep IP and TCP checksums valid', () => {
    const prng = new Prng(99);
    const dec = new PacketDecoder();
    for (let iter = 0; iter < 500; iter++) {
      const pkt = buildTcpPacket({
        family: 4,
        src: `10.77.${prng.below(256)}.${prng.below(256)}`,
        dst: '10.77.0.2',
        srcPort: 1 + prng.below(65535),
        dstPort: 80,
        seq: prng.u32(),
        ack: prng.u32(),
        flags: TcpFlags.ACK,
        window: prng.below(65536),
        payload: prng.bytes(prng.below(300)),
        id: prng.below(65536),
      });
      // Rewrite with the incremental helpers...
      const inc = Buffer.from(pkt);
      const newSrc = prng.u32();
      const newPort = prng.below(65536);
      const newSeq = prng.u32();
      writeU32Adjusting(inc, 12, newSrc, 10, 20 + 16);
      writeU16Adjusting(inc, 20, newPort, 20 + 16);
      writeU32Adjusting(inc, 24, newSeq, 20 + 16);
      // ...and by rebuilding from scratch; the bytes must be identical.
      const src = `${newSrc >>> 24}.${(newSrc >>> 16) & 255}.${(newSrc >>> 8) & 255}.${newSrc & 255}`;
      const full = buildTcpPacket({
        family: 4,
        src,
        dst: '10.77.0.2',
        srcPort: newPort,
        dstPort: 80,
        seq: newSeq,
        ack: pkt.readUInt32BE(28),
        flags: TcpFlags.ACK,
        window: pkt.readUInt16BE(34),
        payload: pkt.subarray(40),
        id: pkt.readUInt16BE(4),
      });
      assert.deepEqual(inc, full, `iter ${iter}`);
      assert.ok(dec.decode(inc, 0, inc.length, LinkType.RAW));
      assert.ok(dec.verifyIpChecksum());
      assert.ok(dec.verifyTcpChecksum());
    }
  });
});

describe('wide (word-view) summing', () => {
  test('equals the byte-wise sum at every alignment and length', () => {
    const prng = new Prng(0xa11);
    const backing = prng.bytes(4200);
    const byteSum = (b: Uint8Array, off: number, len: number): number => {
      let s = 0;
      for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
      return foldSum(s);
    };
    for (let iter = 0; iter < 4000; iter++) {
      // Views at odd byteOffsets of the same ArrayBuffer exercise every head/tail alignment.
      const base = prng.below(8);
      const view = backing.subarray(base);
      const off = prng.below(9);
      const len = iter < 600 ? 150 + iter : prng.below(4000);
      assert.equal(foldSum(onesSum(view, off, len)), byteSum(view, off, len), `base ${base} off ${off} len ${len}`);
    }
    const ff = Buffer.alloc(3001, 0xff);
    assert.equal(foldSum(onesSum(ff, 1, 3000)), 0xffff);
  });
});
