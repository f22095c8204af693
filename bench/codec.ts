// Codec benchmark: ns per packet for the hot-path decode (to the TCP payload), TCP options
// summary, full Repr parse, emit (with checksums), checksum verification and an incremental
// address/port/seq rewrite, over a realistic mix of a few thousand packets (or a capture file:
// `node dist/bench/codec.js FILE`).
import { pathToFileURL } from 'node:url';
import {
  LinkType,
  PacketDecoder,
  TcpFlags,
  TcpOptionSummary,
  buildEthernetFrame,
  buildTcpPacket,
  emitPacket,
  parsePacket,
  writeU16Adjusting,
  writeU32Adjusting,
} from '../src/packet/index.js';
import type { PacketRepr, TcpOption } from '../src/packet/index.js';

interface Frame {
  data: Buffer;
  linkType: number;
}

/** Deterministic mix modelled on web traffic: handshakes, small requests, MSS-sized responses, ACKs. */
function buildMix(count: number): Frame[] {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const frames: Frame[] = [];
  const ts: TcpOption[] = [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 123456, tsecr: 654321 }];
  const syn: TcpOption[] = [
    { kind: 'mss', value: 1460 },
    { kind: 'sackPermitted' },
    { kind: 'timestamps', tsval: 1, tsecr: 0 },
    { kind: 'nop' },
    { kind: 'wscale', shift: 7 },
  ];
  for (let i = 0; i < count; i++) {
    const v6 = rnd(4) === 0;
    const kind = rnd(10);
    const size = kind < 4 ? 0 : kind < 7 ? 1448 : 50 + rnd(400);
    const ip = buildTcpPacket({
      family: v6 ? 6 : 4,
      src: v6 ? `fd77::${1 + rnd(200)}` : `10.77.${rnd(256)}.${rnd(256)}`,
      dst: v6 ? 'fd77::1' : '10.77.0.1',
      srcPort: 1024 + rnd(60000),
      dstPort: 80,
      seq: rnd(0x7fffffff) * 2,
      ack: rnd(0x7fffffff),
      flags: kind === 0 ? TcpFlags.SYN : TcpFlags.ACK | (size > 0 ? TcpFlags.PSH : 0),
      window: 502,
      options: kind === 0 ? syn : ts,
      payload: Buffer.alloc(size, 0x61),
      id: rnd(65536),
    });
    const link = rnd(10);
    if (link < 7) {
      frames.push({
        linkType: LinkType.EN10MB,
        data: buildEthernetFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', payload: ip }),
      });
    } else if (link < 8) {
      frames.push({
        linkType: LinkType.EN10MB,
        data: buildEthernetFrame({
          src: '02:00:00:00:00:01',
          dst: '02:00:00:00:00:02',
          payload: ip,
          vlans: [{ tpid: 0x8100, pcp: 0, dei: false, vid: 100 }],
        }),
      });
    } else if (link < 9) {
      // protocol, reserved, ifindex 2, ARPHRD_ETHER, PACKET_HOST, address length 6, 8 address bytes
      const sll2 = Buffer.from(
        `${v6 ? '86dd' : '0800'}0000` + '00000002' + '0001' + '00' + '06' + '0200000000010000',
        'hex',
      );
      frames.push({ linkType: LinkType.LINUX_SLL2, data: Buffer.concat([sll2, ip]) });
    } else {
      frames.push({ linkType: LinkType.RAW, data: ip });
    }
  }
  return frames;
}

async function loadFile(path: string): Promise<Frame[]> {
  const { readCaptureFile } = await import('../src/pcap/index.js');
  const frames: Frame[] = [];
  for await (const b of readCaptureFile(path))
    for (let i = 0; i < b.count; i++) frames.push({ data: b.data(i), linkType: b.linkType });
  return frames;
}

let sink = 0;

/** Runs `fn` over all frames for about `ms` (after a warm-up); best of 3 runs, in ns per packet. */
function measure(frames: Frame[], ms: number, fn: (f: Frame) => number): number {
  const once = (budgetMs: number): number => {
    let packets = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(budgetMs) * 1_000_000n;
    let now = start;
    while (now < deadline) {
      for (const f of frames) sink += fn(f);
      packets += frames.length;
      now = process.hrtime.bigint();
    }
    return Number(now - start) / packets;
  };
  once(ms / 2);
  return Math.min(once(ms), once(ms), once(ms));
}

export async function run(): Promise<void> {
  const file = process.argv.slice(2).find((a) => !a.startsWith('-') && a !== 'codec');
  const frames = file ? await loadFile(file) : buildMix(4000);
  const dec = new PacketDecoder();
  const opts = new TcpOptionSummary();
  const usable = frames.filter((f) => dec.decode(f.data, 0, f.data.length, f.linkType) && dec.isTcp);
  const bytes = usable.reduce((n, f) => n + f.data.length, 0);
  console.log(
    `codec: ${usable.length} TCP packets (${file ?? 'built mix: 70% Ethernet, 10% VLAN, 10% SLL2, 10% raw; 25% IPv6'}), ` +
      `mean ${Math.round(bytes / usable.length)} bytes, node ${process.version}`,
  );
  const reprs: PacketRepr[] = usable.map((f) => parsePacket(f.data, 0, f.data.length, f.linkType));
  const copies = usable.map((f) => ({ data: Buffer.from(f.data), linkType: f.linkType }));
  let ri = 0;
  const rows: Array<[string, number]> = [
    [
      'decode to TCP payload (PacketDecoder)',
      measure(usable, 400, (f) => (dec.decode(f.data, 0, f.data.length, f.linkType) ? dec.payloadLength : -1)),
    ],
    [
      'decode + TCP options summary',
      measure(usable, 400, (f) => {
        dec.decode(f.data, 0, f.data.length, f.linkType);
        dec.readTcpOptions(opts);
        return opts.tsval;
      }),
    ],
    [
      'decode + verify IPv4 header and TCP checksums',
      measure(usable, 400, (f) => {
        dec.decode(f.data, 0, f.data.length, f.linkType);
        return (dec.verifyTcpChecksum() ? 1 : 0) + (dec.verifyIpChecksum() ? 1 : 0);
      }),
    ],
    [
      'decode + rewrite src addr/port/seq (RFC 1624)',
      measure(copies, 400, (f) => {
        dec.decode(f.data, 0, f.data.length, f.linkType);
        const ck = dec.tcpOffset + 16;
        if (dec.ipVersion === 4) writeU32Adjusting(f.data, dec.srcOffset, dec.srcIpv4() ^ 1, dec.ipOffset + 10, ck);
        writeU16Adjusting(f.data, dec.tcpOffset, dec.srcPort ^ 1, ck);
        writeU32Adjusting(f.data, dec.tcpOffset + 4, (dec.seq + 1) >>> 0, ck);
        return dec.seq;
      }),
    ],
    [
      'full Repr parse (parsePacket)',
      measure(usable, 400, (f) => parsePacket(f.data, 0, f.data.length, f.linkType).payload.length),
    ],
    [
      'emit from Repr, checksums computed (emitPacket)',
      measure(usable, 400, () => emitPacket(reprs[ri++ % reprs.length]!).length),
    ],
  ];
  for (const [name, ns] of rows) {
    console.log(
      `  ${name.padEnd(48)} ${ns.toFixed(1).padStart(8)} ns/packet  ${(1000 / ns).toFixed(2).padStart(7)} Mpps`,
    );
  }
  if (sink === 42) console.log('');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
