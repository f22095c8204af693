// Packets made by our builders (every TCP option kind, all flag bits, IPv4/IPv6, several link
// types) must dissect in tshark to exactly the values we put in, with checksums tshark accepts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcapHeader, encodePcapRecord } from '../../../src/pcap/index.js';
import { LinkType, buildEthernetFrame, buildTcpPacket, emitSll2, tcpOptionsLength } from '../../../src/packet/index.js';
import type { TcpOption, TcpPacketSpec } from '../../../src/packet/index.js';
import { Prng } from '../prng.js';
import { sh } from './env.js';
import { compareWithTshark } from './compare.js';

let skip: string | false = false;
try {
  await sh('tshark', ['--version'], 10_000);
} catch {
  skip = 'needs tshark';
}

function randomOptions(prng: Prng, syn: boolean): TcpOption[] {
  if (syn) {
    return [
      { kind: 'mss', value: 536 + prng.below(9000) },
      { kind: 'sackPermitted' },
      { kind: 'timestamps', tsval: prng.u32(), tsecr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: prng.below(15) },
    ];
  }
  const opts: TcpOption[] = [];
  if (prng.below(2) === 0)
    opts.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: prng.u32(), tsecr: prng.u32() });
  if (prng.below(3) === 0) {
    const room = Math.floor((40 - tcpOptionsLength(opts) - 4) / 8);
    opts.push(
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: Array.from({ length: 1 + prng.below(room) }, () => ({ left: prng.u32(), right: prng.u32() })),
      },
    );
  }
  if (prng.below(6) === 0 && opts.length === 0)
    opts.push({ kind: 'unknown', type: 253, data: prng.bytes(2 + prng.below(6)) });
  if (prng.below(8) === 0 && opts.length === 0) opts.push({ kind: 'unknown', type: 34, data: prng.bytes(8) });
  if (prng.below(5) === 0 && tcpOptionsLength(opts) <= 36) opts.push({ kind: 'eol', padding: Buffer.alloc(3) });
  return opts;
}

function randomSpec(prng: Prng, i: number): TcpPacketSpec {
  const version = i % 3 === 0 ? 6 : 4;
  const syn = i % 7 === 0;
  return {
    family: version,
    src:
      version === 4
        ? `10.77.${prng.below(256)}.${prng.below(256)}`
        : `fd77::${prng.below(0x10000).toString(16)}:${prng.below(0x10000).toString(16)}`,
    dst: version === 4 ? '10.77.0.1' : 'fd77:0:0:1::1',
    srcPort: 1 + prng.below(65535),
    dstPort: 1 + prng.below(65535),
    seq: prng.u32(),
    ack: prng.u32(),
    flags: syn ? 0x002 : prng.below(512) | 0x010,
    window: prng.below(65536),
    options: randomOptions(prng, syn),
    payload: prng.bytes(prng.below(3) === 0 ? 0 : prng.below(1400)),
    ttl: 1 + prng.below(255),
    id: prng.below(65536),
    dontFragment: prng.below(2) === 0,
    dscp: prng.below(64),
    ecn: prng.below(4),
    flowLabel: prng.below(1 << 20),
    urgentPointer: prng.below(65536),
  };
}

describe('built packets agree with tshark', { skip }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkt-built-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, number, (ip: Buffer, i: number, prng: Prng) => Buffer]> = [
    ['raw', LinkType.RAW, (ip) => ip],
    [
      'ethernet',
      LinkType.EN10MB,
      (ip, i, prng) =>
        buildEthernetFrame({
          src: '02:00:00:00:00:01',
          dst: '02:00:00:00:00:02',
          payload: ip,
          padToMinimum: true,
          vlans:
            i % 4 === 0
              ? []
              : i % 4 === 1
                ? [{ tpid: 0x8100, pcp: prng.below(8), dei: prng.below(2) === 1, vid: 1 + prng.below(4094) }]
                : [
                    { tpid: 0x88a8, pcp: prng.below(8), dei: false, vid: 1 + prng.below(4094) },
                    { tpid: 0x8100, pcp: 0, dei: true, vid: 7 },
                  ],
        }),
    ],
    [
      'sll2',
      LinkType.LINUX_SLL2,
      (ip, i) => {
        const h = Buffer.alloc(20);
        emitSll2(
          {
            protocol: ip[0]! >>> 4 === 4 ? 0x0800 : 0x86dd,
            reserved: 0,
            ifIndex: 1 + i,
            arphrdType: 1,
            packetType: i % 5,
            addressLength: 6,
            address: Buffer.from('0200000000030000', 'hex'),
          },
          h,
          0,
        );
        return Buffer.concat([h, ip]);
      },
    ],
  ];
  for (const [name, linkType, frame] of cases) {
    test(`${name}: fields, round trip, and tshark-validated checksums`, async () => {
      const prng = new Prng(0xb11d + linkType);
      const chunks = [encodePcapHeader({ linkType })];
      const n = 400;
      for (let i = 0; i < n; i++)
        chunks.push(
          encodePcapRecord({ tsNs: BigInt(i) * 1000n, data: frame(buildTcpPacket(randomSpec(prng, i)), i, prng) }),
        );
      const file = join(dir, `${name}.pcap`);
      await writeFile(file, Buffer.concat(chunks));
      const s = await compareWithTshark(file, linkType);
      assert.equal(s.packets, n);
      assert.equal(s.tcpChecksumComplete, n);
      assert.ok(s.sack > 20 && s.syn > 20, JSON.stringify(s));
      const status = await sh(
        'tshark',
        [
          '-r',
          file,
          '-o',
          'tcp.check_checksum:TRUE',
          '-o',
          'ip.check_checksum:TRUE',
          '-T',
          'fields',
          '-e',
          'ip.checksum.status',
          '-e',
          'tcp.checksum.status',
        ],
        60_000,
      );
      const rows = status
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split('\t'));
      assert.equal(rows.length, n);
      rows.forEach((r, i) => {
        assert.equal(r[1], '1', `frame ${i + 1}: TCP checksum status ${r[1]}`);
        if (r[0] !== '') assert.equal(r[0], '1', `frame ${i + 1}: IPv4 checksum status ${r[0]}`);
      });
    });
  }
});
