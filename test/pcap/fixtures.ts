// Test-only fixtures: a crafted multi-section pcapng file that exercises every block type and
// timestamp form, with the packets a correct reader must return (computed from the inputs).

import { LinkType } from '../../src/packet/linktype.js';
import * as B from './build.js';

export interface Expect {
  data: Buffer;
  origLen: number;
  tsNs: bigint;
  linkType: number;
  interfaceId: number;
  epbFlags?: number;
}

const NS = 1_000_000_000n;

export function craftedPcapng(): { blocks: Buffer[]; bytes: Buffer; want: Expect[] } {
  // Section 0: big-endian, two interfaces (µs default and 2^-20 with a +100 s offset), EPB, SPB, PB,
  // NRB, ISB, DSB, custom and unknown blocks. Section 1: little-endian, ns, 10^-12 and ms interfaces.
  const e = 'BE' as const;
  const l = 'LE' as const;
  const d = B.payload;
  const tsPow2 = (1_700_000_000n << 20n) + 12_345n;
  const blocks = [
    B.shb(e, [
      [4, B.str('craft-app')],
      [2, B.str('hw')],
      [3, B.str('os\0\0')],
    ]),
    B.idb(e, LinkType.EN10MB, 0, [
      [2, B.str('eth0')],
      [3, B.str('first NIC')],
      [1, B.str('a comment')],
    ]),
    B.idb(e, LinkType.RAW, 64, [
      [2, B.str('raw0')],
      [9, B.byte(0x80 | 20)],
      [14, B.i64(100n, e)],
      [0x7777, d(5, 1)],
    ]),
    B.epb(e, 0, 1_700_000_000_123_456n, d(60, 1)),
    B.epb(e, 1, tsPow2, d(61, 2), 1000, [
      [2, B.u32(0x00000001, e)],
      [1, B.str('pkt comment')],
      [0x8001, d(3, 3)],
    ]),
    B.spb(e, 70, d(70, 3)), // padded data; caplen = origLen 70
    B.block(0x12345678, d(13, 4), e), // unknown
    B.block(
      4,
      Buffer.concat([B.u16(1, e), B.u16(8, e), Buffer.from([10, 0, 0, 1]), B.str('abc\0'), Buffer.alloc(4)]),
      e,
    ), // NRB
    B.block(5, Buffer.concat([B.u32(0, e), B.u32(1, e), B.u32(2, e)]), e), // ISB
    B.block(10, Buffer.concat([B.u32(0x544c534b, e), B.u32(4, e), d(4, 5)]), e), // DSB
    B.block(0xbad, Buffer.concat([B.u32(32473, e), d(7, 6)]), e), // custom
    B.pb(e, 1, 1_700_000_001_456n, d(40, 5), 44, [[2, B.u32(2, e)]]), // obsolete Packet Block
    B.block(0x40000bad, Buffer.concat([B.u32(32473, e), d(9, 7)]), e), // custom, no-copy
    B.shb(l),
    B.idb(l, LinkType.LINUX_SLL2, 262144, [
      [9, B.byte(9)],
      [2, B.str('any')],
    ]),
    B.idb(l, LinkType.NULL, 0, [
      [9, B.byte(12)],
      [14, B.i64(-5n, l)],
    ]),
    B.idb(l, LinkType.LOOP, 0, [[9, B.byte(3)]]),
    B.epb(l, 0, 1_700_000_002_000_000_001n, d(50, 6), 50, [[2, B.u32(2, l)]]),
    // ps: a u64 holds only ~213 days. The sub-second remainder is kept below 2^64 / 10^9 units because
    // Wireshark 4.0 overflows when it multiplies larger remainders by 10^9 (we compute exactly).
    B.epb(l, 1, 12_345_012_345_678_901n, d(33, 7)),
    B.epb(l, 2, 1_700_000_004_321n, d(0, 8), 10),
  ];
  const want: Expect[] = [
    { data: d(60, 1), origLen: 60, tsNs: 1_700_000_000_123_456_000n, linkType: LinkType.EN10MB, interfaceId: 0 },
    {
      data: d(61, 2),
      origLen: 1000,
      // whole seconds + 100 s offset, remainder of 2^-20 units truncated to ns
      tsNs: (1_700_000_000n + 100n) * NS + (12_345n * NS) / (1n << 20n),
      linkType: LinkType.RAW,
      interfaceId: 1,
      epbFlags: 1,
    },
    { data: d(70, 3), origLen: 70, tsNs: 0n, linkType: LinkType.EN10MB, interfaceId: 0 },
    {
      data: d(40, 5),
      origLen: 44,
      // 1_700_000_001_456 units of 2^-20 s: whole seconds plus the offset, then the remainder in ns
      tsNs: (1_700_000_001_456n / (1n << 20n) + 100n) * NS + ((1_700_000_001_456n % (1n << 20n)) * NS) / (1n << 20n),
      linkType: LinkType.RAW,
      interfaceId: 1,
      epbFlags: 2,
    },
    {
      data: d(50, 6),
      origLen: 50,
      tsNs: 1_700_000_002_000_000_001n,
      linkType: LinkType.LINUX_SLL2,
      interfaceId: 2,
      epbFlags: 2,
    },
    { data: d(33, 7), origLen: 33, tsNs: 12_345_012_345_678n - 5n * NS, linkType: LinkType.NULL, interfaceId: 3 },
    { data: d(0, 8), origLen: 10, tsNs: 1_700_000_004_321_000_000n, linkType: LinkType.LOOP, interfaceId: 4 },
  ];

  return { blocks, bytes: Buffer.concat(blocks), want };
}
