// Per-layer codecs on hand-built byte vectors: exact field values, emit reproducing the bytes, and
// the typed errors (code + offset) for malformed input.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  PacketError,
  parseEthernet,
  emitEthernet,
  parseSll,
  emitSll,
  parseSll2,
  emitSll2,
  parseNull,
  emitNull,
  parseIpv4,
  emitIpv4,
  ipv4HeaderLength,
  parseIpv6,
  emitIpv6,
  ipv6HeaderLength,
  parseTcp,
  emitTcp,
  tcpHeaderLength,
  parseTcpOptions,
  emitTcpOptions,
  TcpFlags,
  formatTcpFlags,
  Ipv4View,
  TcpView,
  ethernetHeaderLength,
} from '../../src/packet/index.js';
import type { TcpOption } from '../../src/packet/index.js';
import { V4_SYN, V4_OPTIONS_ALL_FLAGS, V6_EXT, ethernet } from './vectors.js';

function throwsCode(fn: () => unknown, code: string, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PacketError, `expected PacketError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}

describe('Ethernet', () => {
  test('untagged header', () => {
    const f = ethernet(Buffer.from([0x45]));
    const r = parseEthernet(f, 0, f.length);
    assert.deepEqual(r, { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', vlans: [], etherType: 0x0800 });
    const out = Buffer.alloc(14);
    assert.equal(emitEthernet(r, out, 0), 14);
    assert.deepEqual(out, f.subarray(0, 14));
  });

  test('QinQ: 802.1ad S-tag then 802.1Q C-tag', () => {
    // S-tag 88a8 pcp 3 vid 200; C-tag 8100 pcp 5 dei vid 100.
    const tags = Buffer.from('88a860c88100b064', 'hex');
    const f = ethernet(Buffer.alloc(0), 0x86dd, tags);
    assert.equal(f.toString('hex'), '020000000002020000000001' + '88a8' + '60c8' + '8100' + 'b064' + '86dd');
    const r = parseEthernet(f, 0, f.length);
    assert.deepEqual(r.vlans, [
      { tpid: 0x88a8, pcp: 3, dei: false, vid: 200 },
      { tpid: 0x8100, pcp: 5, dei: true, vid: 100 },
    ]);
    assert.equal(r.etherType, 0x86dd);
    assert.equal(ethernetHeaderLength(r), 22);
    const out = Buffer.alloc(22);
    emitEthernet(r, out, 0);
    assert.deepEqual(out, f);
  });

  test('errors', () => {
    throwsCode(() => parseEthernet(Buffer.alloc(13), 0, 13), 'TRUNCATED', 0);
    const f = ethernet(Buffer.alloc(0), 0x0800, Buffer.from('81000064', 'hex'));
    throwsCode(() => parseEthernet(f, 0, 16), 'TRUNCATED', 14);
    throwsCode(() => parseEthernet(f, 0, 40), 'TRUNCATED', 0); // span outside the buffer
    throwsCode(
      () => emitEthernet({ dst: 'zz', src: '02:00:00:00:00:01', vlans: [], etherType: 0x800 }, Buffer.alloc(14), 0),
      'BAD_ADDRESS',
    );
    throwsCode(
      () =>
        emitEthernet(
          { dst: '02:00:00:00:00:01', src: '02:00:00:00:00:01', vlans: [], etherType: 0x800 },
          Buffer.alloc(13),
          0,
        ),
      'BUFFER_TOO_SMALL',
      0,
    );
    throwsCode(
      () =>
        emitEthernet(
          {
            dst: '02:00:00:00:00:01',
            src: '02:00:00:00:00:01',
            vlans: [{ tpid: 0x8100, pcp: 0, dei: false, vid: 4096 }],
            etherType: 0x800,
          },
          Buffer.alloc(18),
          0,
        ),
      'BAD_FIELD',
      14,
    );
  });
});

describe('Linux cooked and loopback headers', () => {
  test('SLL v1', () => {
    const h = Buffer.from('0004030400060000000000010000' + '0800', 'hex');
    assert.equal(h.length, 16);
    const r = parseSll(h, 0, 16);
    assert.equal(r.packetType, 4);
    assert.equal(r.arphrdType, 772);
    assert.equal(r.addressLength, 6);
    assert.equal(r.address.toString('hex'), '0000000000010000');
    assert.equal(r.protocol, 0x0800);
    const out = Buffer.alloc(16, 0xee);
    assert.equal(emitSll(r, out, 0), 16);
    assert.deepEqual(out, h);
    throwsCode(() => parseSll(h, 0, 15), 'TRUNCATED', 0);
  });

  test('SLL v2', () => {
    const h = Buffer.from('86dd0000' + '00000007' + '0001' + '00' + '06' + '0200000000010000', 'hex');
    const r = parseSll2(h, 0, 20);
    assert.deepEqual(
      { ...r, address: r.address.toString('hex') },
      {
        protocol: 0x86dd,
        reserved: 0,
        ifIndex: 7,
        arphrdType: 1,
        packetType: 0,
        addressLength: 6,
        address: '0200000000010000',
      },
    );
    const out = Buffer.alloc(20, 0xee);
    assert.equal(emitSll2(r, out, 0), 20);
    assert.deepEqual(out, h);
    throwsCode(() => parseSll2(h, 0, 19), 'TRUNCATED', 0);
  });

  test('NULL in either byte order, LOOP big-endian', () => {
    assert.deepEqual(parseNull(Buffer.from('02000000', 'hex'), 0, 4), { family: 2, bigEndian: false });
    assert.deepEqual(parseNull(Buffer.from('0000001e', 'hex'), 0, 4), { family: 30, bigEndian: true });
    assert.deepEqual(parseNull(Buffer.from('18000000', 'hex'), 0, 4), { family: 24, bigEndian: false });
    assert.deepEqual(parseNull(Buffer.from('00000018', 'hex'), 0, 4, true), { family: 24, bigEndian: true });
    const out = Buffer.alloc(4);
    emitNull({ family: 10, bigEndian: false }, out, 0);
    assert.equal(out.toString('hex'), '0a000000');
    throwsCode(() => parseNull(Buffer.alloc(3), 0, 3), 'TRUNCATED', 0);
  });
});

describe('IPv4', () => {
  test('SYN header fields', () => {
    const r = parseIpv4(V4_SYN, 0, V4_SYN.length);
    assert.deepEqual(
      { ...r, options: r.options.length },
      {
        dscp: 0,
        ecn: 0,
        identification: 0x1c46,
        reservedFlag: false,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        ttl: 64,
        protocol: 6,
        checksum: 0x09da,
        src: '10.77.0.1',
        dst: '10.77.0.2',
        options: 0,
        payloadLength: 40,
      },
    );
    const out = Buffer.alloc(20);
    r.checksum = 0; // ignored: emit computes
    assert.equal(emitIpv4(r, out, 0), 20);
    assert.deepEqual(out, V4_SYN.subarray(0, 20));
  });

  test('options, DSCP/ECN, reserved flag, and keepChecksums', () => {
    const r = parseIpv4(V4_OPTIONS_ALL_FLAGS, 0, V4_OPTIONS_ALL_FLAGS.length);
    assert.equal(r.dscp, 46);
    assert.equal(r.ecn, 1);
    assert.equal(r.reservedFlag, true);
    assert.equal(r.dontFragment, false);
    assert.equal(r.options.toString('hex'), '94040000');
    assert.equal(ipv4HeaderLength(r), 24);
    const out = Buffer.alloc(24);
    emitIpv4(r, out, 0);
    assert.deepEqual(out, V4_OPTIONS_ALL_FLAGS.subarray(0, 24));
    emitIpv4({ ...r, checksum: 0x1111 }, out, 0, { keepChecksums: true });
    assert.equal(out.readUInt16BE(10), 0x1111);
  });

  test('fragment fields', () => {
    const b = Buffer.from(V4_SYN);
    b.writeUInt16BE(0x2000 | 185, 6); // MF, offset 185*8
    const r = parseIpv4(b, 0, b.length);
    assert.equal(r.moreFragments, true);
    assert.equal(r.fragmentOffset, 1480);
  });

  test('Ethernet padding after the datagram is ignored', () => {
    const b = Buffer.concat([V4_SYN, Buffer.alloc(6)]);
    assert.equal(parseIpv4(b, 0, b.length).payloadLength, 40);
  });

  test('errors carry code and offset', () => {
    const at = 10;
    const b = Buffer.concat([Buffer.alloc(at), V4_SYN]);
    throwsCode(() => parseIpv4(b, at, 19), 'TRUNCATED', at);
    const v = Buffer.from(b);
    v[at] = 0x65;
    throwsCode(() => parseIpv4(v, at, 60), 'BAD_VERSION', at);
    const ihl = Buffer.from(b);
    ihl[at] = 0x44;
    throwsCode(() => parseIpv4(ihl, at, 60), 'BAD_IHL', at);
    const opt = Buffer.from(b);
    opt[at] = 0x4f;
    throwsCode(() => parseIpv4(opt, at, 30), 'TRUNCATED', at);
    const tl = Buffer.from(b);
    tl.writeUInt16BE(19, at + 2);
    throwsCode(() => parseIpv4(tl, at, 60), 'BAD_TOTAL_LENGTH', at + 2);
    throwsCode(() => parseIpv4(b, at, 59), 'TRUNCATED', at + 59);
    const r = parseIpv4(V4_SYN, 0, 60);
    throwsCode(() => emitIpv4({ ...r, options: Buffer.alloc(3) }, Buffer.alloc(60), 0), 'BAD_OPTION', 20);
    throwsCode(() => emitIpv4({ ...r, ttl: 256 }, Buffer.alloc(60), 0), 'BAD_FIELD', 8);
    throwsCode(() => emitIpv4({ ...r, src: '10.77.0' }, Buffer.alloc(60), 0), 'BAD_ADDRESS');
    throwsCode(() => emitIpv4({ ...r, payloadLength: 65516 }, Buffer.alloc(60), 0), 'BAD_FIELD', 2);
  });

  test('view setters keep the header checksum valid', () => {
    const b = Buffer.from(V4_SYN);
    const v = new Ipv4View().reset(b, 0);
    assert.equal(v.srcU32, 0x0a4d0001);
    v.setTtl(3);
    v.setIdentification(0xffff);
    v.setDst(0xc0a80001);
    assert.equal(v.ttl, 3);
    assert.equal(v.dst, '192.168.0.1');
    assert.equal(v.verifyChecksum(), true);
    const c = v.checksum;
    v.fillChecksum();
    assert.equal(v.checksum, c);
  });
});

describe('IPv6', () => {
  test('fixed header and extension chain', () => {
    const r = parseIpv6(V6_EXT, 0, V6_EXT.length);
    assert.equal(r.trafficClass, 0x2e);
    assert.equal(r.flowLabel, 0xabcde);
    assert.equal(r.hopLimit, 63);
    assert.equal(r.src, 'fd77::1');
    assert.equal(r.dst, 'fd77::2');
    assert.deepEqual(
      r.extensionHeaders.map((h) => [h.type, h.body.toString('hex')]),
      [
        [0, '00010400000000'],
        [60, '00010400000000'],
        [44, '00000012345678'],
      ],
    );
    assert.equal(r.nextHeader, 6);
    assert.equal(r.fragment, null); // atomic fragment
    assert.equal(r.payloadLength, 23);
    assert.equal(ipv6HeaderLength(r), 64);
    const out = Buffer.alloc(64);
    assert.equal(emitIpv6(r, out, 0), 64);
    assert.deepEqual(out, V6_EXT.subarray(0, 64));
  });

  test('a real fragment stops the walk; AH length is in 4-byte units', () => {
    const b = Buffer.from(V6_EXT);
    b.writeUInt16BE((100 << 3) | 1, 58); // fragment offset 800, M
    const r = parseIpv6(b, 0, b.length);
    assert.deepEqual(r.fragment, { offset: 800, moreFragments: true, identification: 0x12345678 });
    assert.equal(r.nextHeader, 6);
    assert.equal(r.payloadLength, 23);
    // AH (next 6, len 4 -> 24 bytes) after the fixed header.
    const ah = Buffer.concat([Buffer.from('06040000', 'hex'), Buffer.alloc(20, 0xaa)]);
    const tcp = V6_EXT.subarray(64);
    const fixed = Buffer.from(V6_EXT.subarray(0, 40));
    fixed[6] = 51;
    fixed.writeUInt16BE(ah.length + tcp.length, 4);
    const pkt = Buffer.concat([fixed, ah, tcp]);
    const a = parseIpv6(pkt, 0, pkt.length);
    assert.deepEqual(
      a.extensionHeaders.map((h) => [h.type, h.body.length]),
      [[51, 23]],
    );
    assert.equal(a.nextHeader, 6);
    const out = Buffer.alloc(64);
    emitIpv6(a, out, 0);
    assert.deepEqual(out, pkt.subarray(0, 64));
  });

  test('errors', () => {
    throwsCode(() => parseIpv6(V6_EXT, 0, 39), 'TRUNCATED', 0);
    const v = Buffer.from(V6_EXT);
    v[0] = 0x42;
    throwsCode(() => parseIpv6(v, 0, v.length), 'BAD_VERSION', 0);
    throwsCode(() => parseIpv6(V6_EXT, 0, V6_EXT.length - 1), 'TRUNCATED', V6_EXT.length - 1);
    const long = Buffer.from(V6_EXT);
    long[41] = 9; // hop-by-hop claims 80 bytes
    throwsCode(() => parseIpv6(long, 0, long.length), 'BAD_EXT_HEADER', 40);
    const r = parseIpv6(V6_EXT, 0, V6_EXT.length);
    const bad = { ...r, extensionHeaders: [{ type: 0, body: Buffer.alloc(6) }] };
    throwsCode(() => emitIpv6(bad, Buffer.alloc(100), 0), 'BAD_EXT_HEADER', 40);
    throwsCode(() => emitIpv6({ ...r, flowLabel: 1 << 20 }, Buffer.alloc(100), 0), 'BAD_FIELD', 1);
  });
});

describe('TCP', () => {
  test('SYN with Linux option layout', () => {
    const r = parseTcp(V4_SYN, 20, 40);
    assert.deepEqual(
      { ...r, payload: r.payload.length },
      {
        srcPort: 40000,
        dstPort: 80,
        seq: 1,
        ack: 0,
        flags: TcpFlags.SYN,
        reserved: 0,
        window: 0xfaf0,
        checksum: 0x9b7d,
        urgentPointer: 0,
        payload: 0,
        options: [
          { kind: 'mss', value: 1460 },
          { kind: 'sackPermitted' },
          { kind: 'timestamps', tsval: 100, tsecr: 0 },
          { kind: 'nop' },
          { kind: 'wscale', shift: 7 },
        ],
      },
    );
    assert.equal(tcpHeaderLength(r), 40);
    const out = Buffer.alloc(40);
    assert.equal(emitTcp(r, out, 0, { family: 4, src: '10.77.0.1', dst: '10.77.0.2' }), 40);
    assert.deepEqual(out, V4_SYN.subarray(20));
  });

  test('all nine flags, urgent pointer and payload', () => {
    const r = parseTcp(V4_OPTIONS_ALL_FLAGS, 24, V4_OPTIONS_ALL_FLAGS.length - 24);
    assert.equal(r.flags, 0x1ff);
    assert.equal(formatTcpFlags(r.flags), 'NS|CWR|ECE|URG|ACK|PSH|RST|SYN|FIN');
    assert.equal(r.seq, 0xfffffffe);
    assert.equal(r.urgentPointer, 7);
    assert.equal(r.payload.toString(), 'GET / HTTP/1.1\r\n\r\n');
    const out = Buffer.alloc(38);
    emitTcp(r, out, 0, { family: 4, src: Buffer.from([10, 77, 0, 2]), dst: Buffer.from([10, 77, 0, 1]) });
    assert.deepEqual(out, V4_OPTIONS_ALL_FLAGS.subarray(24));
  });

  test('IPv6 pseudo-header checksum', () => {
    const r = parseTcp(V6_EXT, 64, 23);
    assert.equal(r.flags, TcpFlags.PSH | TcpFlags.ACK);
    const out = Buffer.alloc(23);
    emitTcp(r, out, 0, { family: 6, src: 'fd77::1', dst: 'fd77::2' });
    assert.deepEqual(out, V6_EXT.subarray(64));
  });

  test('reserved bits are kept', () => {
    const b = Buffer.from(V4_SYN.subarray(20));
    b[12] = 0xae; // doff 10, reserved 7, NS 0
    const r = parseTcp(b, 0, 40);
    assert.equal(r.reserved, 7);
    const out = Buffer.alloc(40);
    emitTcp(r, out, 0, { family: 4, src: '10.77.0.1', dst: '10.77.0.2' }, { keepChecksums: true });
    assert.deepEqual(out, b);
  });

  test('options: SACK blocks, unknown kinds, EOL padding, odd lengths padded', () => {
    const area = Buffer.from('0101050a0000000a00000014' + '1e04abcd' + '02030f' + '00ff0000', 'hex');
    const opts = parseTcpOptions(area, 0, area.length);
    assert.deepEqual(
      opts.map((o) =>
        'data' in o
          ? { ...o, data: o.data.toString('hex') }
          : 'padding' in o
            ? { ...o, padding: o.padding?.toString('hex') }
            : o,
      ),
      [
        { kind: 'nop' },
        { kind: 'nop' },
        { kind: 'sack', blocks: [{ left: 10, right: 20 }] },
        { kind: 'unknown', type: 30, data: 'abcd' },
        { kind: 'unknown', type: 2, data: '0f' },
        { kind: 'eol', padding: 'ff0000' },
      ],
    );
    const out = Buffer.alloc(area.length);
    assert.equal(emitTcpOptions(opts, out, 0), area.length);
    assert.deepEqual(out, area);
    const r = {
      srcPort: 1,
      dstPort: 2,
      seq: 3,
      ack: 4,
      flags: TcpFlags.ACK,
      window: 5,
      options: [{ kind: 'wscale', shift: 2 }] satisfies TcpOption[],
      payload: Buffer.alloc(0),
    };
    assert.equal(tcpHeaderLength(r), 24);
    const seg = Buffer.alloc(24, 0xee);
    emitTcp(r, seg, 0, { family: 4, src: '1.2.3.4', dst: '5.6.7.8' });
    assert.equal(seg.subarray(20).toString('hex'), '03030200');
  });

  test('errors', () => {
    throwsCode(() => parseTcp(V4_SYN, 20, 19), 'TRUNCATED', 20);
    const b = Buffer.from(V4_SYN);
    b[32] = 0x40;
    throwsCode(() => parseTcp(b, 20, 40), 'BAD_DATA_OFFSET', 32);
    b[32] = 0xb0;
    throwsCode(() => parseTcp(b, 20, 40), 'BAD_DATA_OFFSET', 32);
    throwsCode(() => parseTcpOptions(Buffer.from('0201', 'hex'), 0, 2), 'BAD_OPTION', 0);
    throwsCode(() => parseTcpOptions(Buffer.from('010108', 'hex'), 0, 3), 'BAD_OPTION', 2);
    throwsCode(() => parseTcpOptions(Buffer.from('0101080a0000', 'hex'), 0, 6), 'BAD_OPTION', 2);
    const big = {
      srcPort: 1,
      dstPort: 2,
      seq: 3,
      ack: 4,
      flags: 0,
      window: 5,
      payload: Buffer.alloc(0),
      options: Array.from({ length: 41 }, (): TcpOption => ({ kind: 'nop' })),
    };
    throwsCode(() => tcpHeaderLength(big), 'BAD_OPTION');
    throwsCode(
      () =>
        emitTcp({ ...big, options: [], seq: 2 ** 32 }, Buffer.alloc(20), 0, {
          family: 4,
          src: '1.2.3.4',
          dst: '5.6.7.8',
        }),
      'BAD_FIELD',
      4,
    );
    throwsCode(
      () =>
        emitTcp({ ...big, options: [], flags: 0x200 }, Buffer.alloc(20), 0, {
          family: 4,
          src: '1.2.3.4',
          dst: '5.6.7.8',
        }),
      'BAD_FIELD',
      12,
    );
  });

  test('view setters keep the checksum valid', () => {
    const b = Buffer.from(V4_SYN);
    const t = new TcpView().reset(b, 20);
    t.setSrcPort(1234);
    t.setSeq(0xdeadbeef);
    t.setAck(0x01020304);
    t.setWindow(1);
    const want = Buffer.from(b);
    const r = parseTcp(want, 20, 40);
    emitTcp(r, want, 20, { family: 4, src: '10.77.0.1', dst: '10.77.0.2' });
    assert.equal(t.checksum, want.readUInt16BE(36));
    assert.equal(t.seq, 0xdeadbeef);
  });
});
