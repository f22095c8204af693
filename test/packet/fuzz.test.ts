// Fuzz-style robustness: deterministic random truncations and bit flips of real captured packets
// (and of VLAN / loopback / raw re-encapsulations of them). The decoder never throws and reports a
// code + in-range offset on failure; the parsers throw only PacketError; whatever parses re-emits
// to exactly the input bytes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  LinkType,
  PacketDecoder,
  PacketError,
  TcpOptionSummary,
  emitPacket,
  parsePacket,
  parseEthernet,
  parseSll,
  parseSll2,
  parseNull,
  parseIpv4,
  parseIpv6,
  parseTcp,
  parseTcpOptions,
} from '../../src/packet/index.js';
import { Prng } from './prng.js';
import { REAL_PACKETS } from './real-packets.js';
import { V4_OPTIONS_ALL_FLAGS, V6_EXT, ethernet } from './vectors.js';

interface Sample {
  linkType: number;
  data: Buffer;
}

function samples(): Sample[] {
  const out: Sample[] = REAL_PACKETS.map((p) => ({ linkType: p.linkType, data: Buffer.from(p.hex, 'hex') }));
  const dec = new PacketDecoder();
  for (const p of REAL_PACKETS.filter((x) => x.linkType === LinkType.EN10MB)) {
    const data = Buffer.from(p.hex, 'hex');
    assert.ok(dec.decode(data, 0, data.length, p.linkType));
    const ip = data.subarray(dec.ipOffset);
    out.push({ linkType: LinkType.RAW, data: Buffer.from(ip) });
    out.push({
      linkType: LinkType.NULL,
      data: Buffer.concat([Buffer.from(dec.ipVersion === 4 ? '02000000' : '1e000000', 'hex'), ip]),
    });
    out.push({
      linkType: LinkType.LOOP,
      data: Buffer.concat([Buffer.from(dec.ipVersion === 4 ? '00000002' : '00000018', 'hex'), ip]),
    });
    out.push({
      linkType: LinkType.EN10MB,
      data: ethernet(ip, dec.ipVersion === 4 ? 0x0800 : 0x86dd, Buffer.from('88a8012c81002064', 'hex')),
    });
  }
  out.push({ linkType: LinkType.RAW, data: V6_EXT }, { linkType: LinkType.RAW, data: V4_OPTIONS_ALL_FLAGS });
  return out;
}

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147];

function mutate(prng: Prng, s: Sample): Sample {
  const data = Buffer.from(s.data);
  const flips = prng.below(5);
  for (let i = 0; i < flips; i++) {
    // Mostly in the headers, where the interesting length fields are.
    const span = prng.below(4) === 0 ? data.length : Math.min(data.length, 100);
    if (span === 0) break;
    data[prng.below(span)]! ^= 1 << prng.below(8);
  }
  const cut = prng.below(3) === 0 ? prng.below(data.length + 1) : data.length;
  const linkType = prng.below(20) === 0 ? LINK_TYPES[prng.below(LINK_TYPES.length)]! : s.linkType;
  return { linkType, data: data.subarray(0, cut) };
}

function onlyPacketErrors(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    assert.ok(e instanceof PacketError, `non-PacketError thrown: ${String(e)}`);
    assert.ok(Number.isInteger(e.offset));
    return false;
  }
}

describe('fuzzing with real packets', () => {
  const all = samples();

  test('the unmutated samples decode to TCP and round-trip', () => {
    const dec = new PacketDecoder();
    assert.equal(
      all.length,
      REAL_PACKETS.length + 4 * REAL_PACKETS.filter((x) => x.linkType === LinkType.EN10MB).length + 2,
    );
    for (const s of all) {
      assert.ok(dec.decode(s.data, 0, s.data.length, s.linkType), `${dec.errorCode}`);
      assert.ok(dec.isTcp);
      const r = parsePacket(s.data, 0, s.data.length, s.linkType);
      assert.deepEqual(emitPacket(r, { keepChecksums: true }), s.data);
    }
  });

  test('decoder: never throws, codes and offsets in range, fields consistent', () => {
    const prng = new Prng(0xf022);
    const dec = new PacketDecoder();
    const opts = new TcpOptionSummary();
    const codes = new Map<string, number>();
    let ok = 0;
    const pad = Buffer.alloc(3, 0xee);
    for (let iter = 0; iter < 40_000; iter++) {
      const m = mutate(prng, all[iter % all.length]!);
      // Place the frame inside a bigger buffer so offsets are absolute and the end is enforced.
      const buf = Buffer.concat([pad, m.data, pad]);
      const start = 3;
      const end = start + m.data.length;
      const res = dec.decode(buf, start, m.data.length, m.linkType);
      if (!res) {
        assert.ok(dec.errorCode !== null);
        assert.ok(dec.errorOffset >= start && dec.errorOffset <= end, `${dec.errorCode} at ${dec.errorOffset}`);
        codes.set(dec.errorCode, (codes.get(dec.errorCode) ?? 0) + 1);
        assert.ok(dec.toError() instanceof PacketError);
        continue;
      }
      ok++;
      assert.equal(dec.errorCode, null);
      assert.ok(dec.ipVersion === 4 || dec.ipVersion === 6);
      assert.ok(dec.ipOffset >= start && dec.ipOffset + dec.ipHeaderLength <= end);
      assert.ok(dec.payloadOffset >= start && dec.payloadOffset + dec.payloadLength <= end);
      assert.ok(dec.payloadLength <= dec.wirePayloadLength);
      assert.equal(dec.truncated, dec.ipOffset + dec.ipTotalLength > end);
      dec.srcAddress();
      dec.dstAddress();
      dec.verifyIpChecksum();
      dec.verifyTcpChecksum();
      if (dec.isTcp) {
        assert.ok(dec.tcpOffset + dec.tcpHeaderLength <= end);
        assert.ok(dec.srcPort < 65536 && dec.seq < 2 ** 32 && dec.ack < 2 ** 32 && dec.flags < 512);
        const well = dec.readTcpOptions(opts);
        const bad = dec.forEachTcpOption(() => undefined);
        assert.equal(well, bad === -1);
        if (!well) assert.ok(bad >= dec.tcpOffset + 20 && bad < dec.tcpOffset + dec.tcpHeaderLength);
      }
    }
    assert.ok(ok > 10_000, `decoded ${ok}`);
    for (const code of ['TRUNCATED', 'BAD_VERSION', 'BAD_TOTAL_LENGTH', 'BAD_DATA_OFFSET', 'UNSUPPORTED_LINKTYPE']) {
      assert.ok((codes.get(code) ?? 0) > 0, `never saw ${code}: ${JSON.stringify([...codes])}`);
    }
  });

  test('parsePacket: only PacketError, and every parseable mutant re-emits to its exact bytes', () => {
    const prng = new Prng(0x5eed);
    let parsed = 0;
    for (let iter = 0; iter < 20_000; iter++) {
      const m = mutate(prng, all[iter % all.length]!);
      onlyPacketErrors(() => {
        const r = parsePacket(m.data, 0, m.data.length, m.linkType);
        parsed++;
        const again = emitPacket(r, { keepChecksums: true });
        assert.ok(again.equals(m.data), `iter ${iter}: re-emit differs`);
      });
    }
    assert.ok(parsed > 5000, `parsed ${parsed}`);
  });

  test('per-layer parsers at random offsets and lengths throw only PacketError', () => {
    const prng = new Prng(0xabc);
    const parsers = [parseEthernet, parseSll, parseSll2, parseNull, parseIpv4, parseIpv6, parseTcp, parseTcpOptions];
    for (let iter = 0; iter < 20_000; iter++) {
      const m = mutate(prng, all[iter % all.length]!);
      const off = prng.below(m.data.length + 2);
      const len = prng.below(m.data.length + 4);
      const parse = parsers[iter % parsers.length]!;
      onlyPacketErrors(() => {
        parse(m.data, off, len);
      });
    }
  });

  test('random garbage', () => {
    const prng = new Prng(1);
    const dec = new PacketDecoder();
    for (let iter = 0; iter < 5000; iter++) {
      const b = prng.bytes(prng.below(120));
      const lt = LINK_TYPES[iter % LINK_TYPES.length]!;
      const res = dec.decode(b, 0, b.length, lt);
      if (!res) assert.ok(dec.errorCode !== null);
      onlyPacketErrors(() => {
        const r = parsePacket(b, 0, b.length, lt);
        assert.ok(emitPacket(r, { keepChecksums: true }).equals(b));
      });
    }
  });
});
