// PacketDecoder on hand-built frames of every supported link type: exact field values, lazy
// accessors, options summary, and error codes/offsets on malformed frames.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  PacketDecoder,
  PacketError,
  LinkType,
  TcpFlags,
  TcpOptionSummary,
  buildTcpPacket,
} from '../../src/packet/index.js';
import { V4_SYN, V4_OPTIONS_ALL_FLAGS, V6_EXT, ethernet } from './vectors.js';

const SLL_V4 = Buffer.from('00000304000600000000000000000800', 'hex');
const SLL2_V6 = Buffer.from('86dd000000000001030400060000000000000000', 'hex');

function expectSyn(d: PacketDecoder, ipOffset: number): void {
  assert.equal(d.errorCode, null);
  assert.equal(d.ipVersion, 4);
  assert.equal(d.ipOffset, ipOffset);
  assert.equal(d.ipHeaderLength, 20);
  assert.equal(d.ipTotalLength, 60);
  assert.equal(d.protocol, 6);
  assert.equal(d.ttl, 64);
  assert.equal(d.ipId, 0x1c46);
  assert.equal(d.srcOffset, ipOffset + 12);
  assert.equal(d.dstOffset, ipOffset + 16);
  assert.equal(d.srcAddress(), '10.77.0.1');
  assert.equal(d.dstAddress(), '10.77.0.2');
  assert.equal(d.srcIpv4(), 0x0a4d0001);
  assert.equal(d.dstIpv4(), 0x0a4d0002);
  assert.equal(d.isTcp, true);
  assert.equal(d.tcpOffset, ipOffset + 20);
  assert.equal(d.tcpHeaderLength, 40);
  assert.equal(d.srcPort, 40000);
  assert.equal(d.dstPort, 80);
  assert.equal(d.seq, 1);
  assert.equal(d.ack, 0);
  assert.equal(d.flags, TcpFlags.SYN);
  assert.equal(d.window, 0xfaf0);
  assert.equal(d.payloadOffset, ipOffset + 60);
  assert.equal(d.payloadLength, 0);
  assert.equal(d.truncated, false);
  assert.equal(d.verifyIpChecksum(), true);
  assert.equal(d.verifyTcpChecksum(), true);
}

describe('PacketDecoder link layers', () => {
  const d = new PacketDecoder();

  test('Ethernet, at a non-zero offset inside a larger buffer', () => {
    const f = Buffer.concat([Buffer.alloc(7, 0xee), ethernet(V4_SYN), Buffer.alloc(5, 0xee)]);
    assert.equal(d.decode(f, 7, f.length - 12, LinkType.EN10MB), true);
    expectSyn(d, 21);
    assert.equal(d.linkHeaderLength, 14);
    assert.equal(d.ethernetOffset, 7);
    assert.equal(d.etherType, 0x0800);
    assert.equal(d.vlanCount, 0);
    assert.equal(d.ethernet.src, '02:00:00:00:00:01');
    assert.equal(d.ethernet.dst, '02:00:00:00:00:02');
  });

  test('Ethernet QinQ', () => {
    const f = ethernet(V4_SYN, 0x0800, Buffer.from('88a800c881000064', 'hex'));
    assert.equal(d.decode(f, 0, f.length, LinkType.EN10MB), true);
    expectSyn(d, 22);
    assert.equal(d.vlanCount, 2);
    assert.equal(d.outerVlanId, 200);
    assert.equal(d.innerVlanId, 100);
  });

  test('Ethernet with minimum-size padding after a short datagram', () => {
    const pkt = buildTcpPacket({
      family: 4,
      src: '10.77.0.1',
      dst: '10.77.0.2',
      srcPort: 1,
      dstPort: 2,
      seq: 3,
      ack: 4,
      flags: TcpFlags.ACK,
      window: 9,
    });
    const f = Buffer.concat([ethernet(pkt), Buffer.alloc(6)]);
    assert.equal(f.length, 60);
    assert.equal(d.decode(f, 0, f.length, LinkType.EN10MB), true);
    assert.equal(d.payloadLength, 0);
    assert.equal(d.wirePayloadLength, 0);
    assert.equal(d.verifyTcpChecksum(), true);
  });

  test('SLL and SLL2 (IPv6 with extension headers)', () => {
    const f = Buffer.concat([SLL_V4, V4_SYN]);
    assert.equal(d.decode(f, 0, f.length, LinkType.LINUX_SLL), true);
    expectSyn(d, 16);
    assert.equal(d.sllPacketType, 0);
    assert.equal(d.sllArphrdType, 772);
    const g = Buffer.concat([SLL2_V6, V6_EXT]);
    assert.equal(d.decode(g, 0, g.length, LinkType.LINUX_SLL2), true);
    assert.equal(d.sllIfIndex, 1);
    assert.equal(d.sllPacketType, 0);
    assert.equal(d.ipVersion, 6);
    assert.equal(d.ipOffset, 20);
    assert.equal(d.ipHeaderLength, 64);
    assert.equal(d.ipTotalLength, 87);
    assert.equal(d.ttl, 63);
    assert.equal(d.ipId, 0x12345678);
    assert.equal(d.isFragment, false);
    assert.equal(d.srcAddress(), 'fd77::1');
    assert.equal(d.dstAddress(), 'fd77::2');
    assert.equal(d.srcIpv4(), 0);
    assert.equal(d.ipv6.flowLabel, 0xabcde);
    assert.equal(d.ipv6.trafficClass, 0x2e);
    assert.equal(d.srcPort, 5555);
    assert.equal(d.dstPort, 443);
    assert.equal(d.seq, 123456789);
    assert.equal(d.ack, 987654321);
    assert.equal(d.flags, TcpFlags.PSH | TcpFlags.ACK);
    assert.equal(d.hasFlags(TcpFlags.PSH | TcpFlags.ACK), true);
    assert.equal(d.hasFlags(TcpFlags.SYN), false);
    assert.equal(d.payloadOffset, 20 + 64 + 20);
    assert.equal(d.payloadLength, 3);
    assert.equal(d.payload().toString(), 'xyz');
    assert.equal(d.verifyTcpChecksum(), true);
  });

  test('NULL (both byte orders), LOOP, raw link types', () => {
    for (const [lt, head] of [
      [LinkType.NULL, '02000000'],
      [LinkType.NULL, '00000002'],
      [LinkType.LOOP, '00000002'],
    ] as const) {
      const f = Buffer.concat([Buffer.from(head, 'hex'), V4_SYN]);
      assert.equal(d.decode(f, 0, f.length, lt), true, `${lt} ${head}`);
      expectSyn(d, 4);
      assert.equal(d.loopbackFamily, 2);
    }
    for (const fam of ['1e000000', '0000001c', '18000000', '0a000000']) {
      const f = Buffer.concat([Buffer.from(fam, 'hex'), V6_EXT]);
      assert.equal(d.decode(f, 0, f.length, LinkType.NULL), true, fam);
      assert.equal(d.ipVersion, 6);
    }
    for (const lt of [LinkType.RAW, LinkType.DLT_RAW_12, LinkType.DLT_RAW_14, LinkType.IPV4]) {
      assert.equal(d.decode(V4_SYN, 0, V4_SYN.length, lt), true);
      expectSyn(d, 0);
      assert.equal(d.linkHeaderLength, 0);
    }
    assert.equal(d.decode(V6_EXT, 0, V6_EXT.length, LinkType.IPV6), true);
    assert.equal(d.isTcp, true);
  });

  test('all flags, IPv4 options', () => {
    assert.equal(d.decode(V4_OPTIONS_ALL_FLAGS, 0, V4_OPTIONS_ALL_FLAGS.length, LinkType.RAW), true);
    assert.equal(d.ipHeaderLength, 24);
    assert.equal(d.flags, 0x1ff);
    assert.equal(d.seq, 0xfffffffe);
    assert.equal(d.ipv4.dscp, 46);
    assert.equal(d.ipv4.ecn, 1);
    assert.equal(d.payload().toString(), 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(d.verifyTcpChecksum(), true);
  });
});

describe('PacketDecoder TCP options', () => {
  test('summary and walker', () => {
    const d = new PacketDecoder();
    assert.ok(d.decode(V4_SYN, 0, V4_SYN.length, LinkType.RAW));
    const s = new TcpOptionSummary();
    assert.equal(d.readTcpOptions(s), true);
    assert.equal(s.mss, 1460);
    assert.equal(s.windowScale, 7);
    assert.equal(s.sackPermitted, true);
    assert.equal(s.hasTimestamps, true);
    assert.equal(s.tsval, 100);
    assert.equal(s.tsecr, 0);
    assert.equal(s.sackBlockCount, 0);
    const seen: number[][] = [];
    assert.equal(
      d.forEachTcpOption((kind, off, len) => seen.push([kind, off, len])),
      -1,
    );
    assert.deepEqual(seen, [
      [2, 42, 2],
      [4, 46, 0],
      [8, 48, 8],
      [3, 59, 1],
    ]);
    // SACK blocks and a malformed option.
    const pkt = buildTcpPacket({
      family: 4,
      src: '1.2.3.4',
      dst: '5.6.7.8',
      srcPort: 1,
      dstPort: 2,
      seq: 3,
      ack: 4,
      flags: TcpFlags.ACK,
      window: 5,
      options: [
        { kind: 'nop' },
        { kind: 'nop' },
        {
          kind: 'sack',
          blocks: [
            { left: 1, right: 2 },
            { left: 0xfffffff0, right: 0xffffffff },
          ],
        },
      ],
    });
    assert.ok(d.decode(pkt, 0, pkt.length, LinkType.RAW));
    assert.equal(d.readTcpOptions(s), true);
    assert.equal(s.mss, -1);
    assert.equal(s.sackBlockCount, 2);
    assert.deepEqual([...s.sackBlocks.subarray(0, 4)], [1, 2, 0xfffffff0, 0xffffffff]);
    pkt[20 + 20 + 3] = 30; // SACK length runs past the header
    assert.ok(d.decode(pkt, 0, pkt.length, LinkType.RAW));
    assert.equal(d.readTcpOptions(s), false);
    assert.equal(
      d.forEachTcpOption(() => undefined),
      42,
    );
  });
});

describe('PacketDecoder non-TCP and partial packets', () => {
  const d = new PacketDecoder();

  test('UDP decodes to IP only', () => {
    const b = Buffer.from(V4_SYN);
    b[9] = 17;
    assert.equal(d.decode(b, 0, b.length, LinkType.RAW), true);
    assert.equal(d.isTcp, false);
    assert.equal(d.protocol, 17);
    assert.equal(d.payloadOffset, 20);
    assert.equal(d.payloadLength, 40);
  });

  test('IPv4 and IPv6 fragments are reported, not decoded to TCP', () => {
    const b = Buffer.from(V4_SYN);
    b.writeUInt16BE(0x2000, 6);
    assert.equal(d.decode(b, 0, b.length, LinkType.RAW), true);
    assert.equal(d.isFragment, true);
    assert.equal(d.moreFragments, true);
    assert.equal(d.fragmentOffset, 0);
    assert.equal(d.isTcp, false);
    const v6 = Buffer.from(V6_EXT);
    v6.writeUInt16BE(1480, 58);
    assert.equal(d.decode(v6, 0, v6.length, LinkType.RAW), true);
    assert.equal(d.isFragment, true);
    assert.equal(d.fragmentOffset, 1480);
    assert.equal(d.moreFragments, false);
    assert.equal(d.protocol, 6);
    assert.equal(d.ipHeaderLength, 64);
    assert.equal(d.isTcp, false);
  });

  test('snaplen-truncated capture: headers decode, payload is what is present', () => {
    assert.equal(d.decode(V4_OPTIONS_ALL_FLAGS, 0, 50, LinkType.RAW), true);
    assert.equal(d.truncated, true);
    assert.equal(d.isTcp, true);
    assert.equal(d.payloadLength, 6);
    assert.equal(d.wirePayloadLength, 18);
    assert.equal(d.verifyTcpChecksum(), false);
  });
});

describe('PacketDecoder errors', () => {
  const d = new PacketDecoder();
  const cases: Array<[string, Buffer, number, string, number]> = [];
  const eth = ethernet(V4_SYN);
  cases.push(['unknown link type', eth, 147, 'UNSUPPORTED_LINKTYPE', 0]);
  cases.push(['short Ethernet', eth.subarray(0, 13), LinkType.EN10MB, 'TRUNCATED', 0]);
  cases.push(['ARP', ethernet(Buffer.alloc(28), 0x0806), LinkType.EN10MB, 'UNSUPPORTED_ETHERTYPE', 12]);
  cases.push([
    'truncated VLAN tag',
    ethernet(Buffer.alloc(0), 0x0800, Buffer.from('81000064', 'hex')).subarray(0, 16),
    LinkType.EN10MB,
    'TRUNCATED',
    14,
  ]);
  cases.push([
    'NULL family 7',
    Buffer.concat([Buffer.from('07000000', 'hex'), V4_SYN]),
    LinkType.NULL,
    'UNSUPPORTED_FAMILY',
    0,
  ]);
  const v = Buffer.from(V4_SYN);
  v[0] = 0x55;
  cases.push(['raw version 5', v, LinkType.RAW, 'BAD_VERSION', 0]);
  cases.push(['IPV4 link type with IPv6', V6_EXT, LinkType.IPV4, 'BAD_VERSION', 0]);
  const ihl = Buffer.from(V4_SYN);
  ihl[0] = 0x43;
  cases.push(['IHL 3', ihl, LinkType.RAW, 'BAD_IHL', 0]);
  const tl = Buffer.from(V4_SYN);
  tl.writeUInt16BE(10, 2);
  cases.push(['total length < IHL', tl, LinkType.RAW, 'BAD_TOTAL_LENGTH', 2]);
  const tl2 = Buffer.from(V4_SYN);
  tl2.writeUInt16BE(30, 2);
  cases.push(['total length leaves no room for TCP', tl2, LinkType.RAW, 'BAD_TOTAL_LENGTH', 2]);
  const doff = Buffer.from(V4_SYN);
  doff[32] = 0x30;
  cases.push(['data offset 3', doff, LinkType.RAW, 'BAD_DATA_OFFSET', 32]);
  const doff2 = Buffer.from(V4_SYN);
  doff2[32] = 0xf0;
  cases.push(['data offset past the segment', doff2, LinkType.RAW, 'BAD_DATA_OFFSET', 32]);
  cases.push(['TCP header cut by snaplen', V4_SYN.subarray(0, 45), LinkType.RAW, 'TRUNCATED', 20]);
  cases.push(['IPv4 header cut', V4_SYN.subarray(0, 19), LinkType.RAW, 'TRUNCATED', 0]);
  cases.push(['IPv6 header cut', V6_EXT.subarray(0, 39), LinkType.RAW, 'TRUNCATED', 0]);
  const ext = Buffer.from(V6_EXT);
  ext[41] = 200;
  cases.push(['IPv6 extension beyond payload', ext, LinkType.RAW, 'BAD_EXT_HEADER', 40]);
  cases.push(['IPv6 extension cut by snaplen', V6_EXT.subarray(0, 52), LinkType.RAW, 'TRUNCATED', 48]);
  for (const [name, buf, lt, code, offset] of cases) {
    test(name, () => {
      assert.equal(d.decode(buf, 0, buf.length, lt), false);
      assert.equal(d.errorCode, code);
      assert.equal(d.errorOffset, offset);
      const e = d.toError();
      assert.ok(e instanceof PacketError);
      assert.equal(e.code, code);
      assert.equal(e.offset, offset);
    });
  }

  test('bad arguments never throw', () => {
    assert.equal(d.decode(V4_SYN, 50, 20, LinkType.RAW), false);
    assert.equal(d.errorCode, 'TRUNCATED');
    assert.equal(d.decode(V4_SYN, -1, 20, LinkType.RAW), false);
    assert.equal(d.decode(V4_SYN, 0.5, 20, LinkType.RAW), false);
    assert.equal(d.decode(V4_SYN, 0, 0, LinkType.RAW), false);
    assert.equal(d.decode(V4_SYN, 0, V4_SYN.length, LinkType.RAW), true);
    assert.equal(d.toError(), null);
  });
});
