// Real TCP traffic on a namespace's loopback, captured by tcpdump as Ethernet (lo), Linux cooked
// SLL and SLL2 (any), then re-encapsulated as NULL/LOOP/RAW/IPV4/IPV6: every field of every packet
// must agree with tshark, and parse -> emit must reproduce every packet byte for byte.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePcapHeader, encodePcapRecord } from '../../../src/pcap/index.js';
import { LinkType, PacketDecoder, emitNull } from '../../../src/packet/index.js';
import { Namespace, Tcpdump, liveSkipReason } from './env.js';
import { compareWithTshark, readAll } from './compare.js';
import type { CompareStats } from './compare.js';

const skip = await liveSkipReason();
const trafficScript = fileURLToPath(new URL('./traffic.js', import.meta.url));

describe('real loopback traffic agrees with tshark', { skip: skip ?? false }, () => {
  let ns: Namespace | undefined;
  let dir = '';
  const files = { eth: '', sll: '', sll2: '' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkt-live-'));
    ns = await Namespace.create('l');
    // Ethernet-sized segments (no GSO on lo), ECN negotiation, and every 40th bulk data segment
    // dropped after capture so the receiver sends SACK blocks.
    await ns.run('ip', ['link', 'set', 'lo', 'mtu', '1500']);
    await ns.run('ethtool', ['-K', 'lo', 'tso', 'off', 'gso', 'off', 'gro', 'off']);
    await ns.run('sysctl', ['-qw', 'net.ipv4.tcp_ecn=1']);
    await ns.run('nft', [
      'add table inet pkt { chain in { type filter hook input priority 0; ' +
        'tcp sport 8078 tcp flags & (syn|fin) == 0 numgen inc mod 40 == 7 drop; }; }',
    ]);
    files.eth = join(dir, 'lo.pcap');
    files.sll = join(dir, 'any-sll.pcap');
    files.sll2 = join(dir, 'any-sll2.pcap');
    const dumps = [
      await Tcpdump.start(ns, files.eth, ['-i', 'lo', 'tcp']),
      await Tcpdump.start(ns, files.sll, ['-i', 'any', '-y', 'LINUX_SLL', 'tcp']),
      await Tcpdump.start(ns, files.sll2, ['-i', 'any', '-y', 'LINUX_SLL2', 'tcp']),
    ];
    try {
      const out = await ns.run(process.execPath, [trafficScript, 'local', '127.0.0.1', '::1'], 30_000);
      assert.match(out, /done/);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      const drops = [];
      for (const d of dumps) drops.push(await d.stop());
      assert.deepEqual(drops, [0, 0, 0], 'tcpdump kernel drops');
    }
  });

  after(async () => {
    await ns?.delete();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function assertRichCapture(s: CompareStats): void {
    assert.ok(s.packets > 200, `packets ${s.packets}`);
    assert.ok(s.ipv4 > 50 && s.ipv6 > 50, `ipv4 ${s.ipv4} ipv6 ${s.ipv6}`);
    assert.ok(s.synWithMssSackTsWscale >= 8, `SYNs with MSS/SACK-perm/TS/WS: ${s.synWithMssSackTsWscale}`);
    assert.ok(s.sack >= 2, `SACK packets ${s.sack}`);
    assert.ok(s.rst >= 4, `RST packets ${s.rst}`);
    assert.ok(s.fin >= 6, `FIN packets ${s.fin}`);
    assert.ok(s.ece >= 1 && s.cwr >= 1, `ECE ${s.ece} CWR ${s.cwr}`);
    assert.ok(s.ecnMarked >= 1, `ECN-marked IP packets ${s.ecnMarked}`);
    assert.ok(s.withPayload > 100, `packets with payload ${s.withPayload}`);
  }

  test('Ethernet capture on lo (link type 1)', async () => {
    const s = await compareWithTshark(files.eth, LinkType.EN10MB);
    assertRichCapture(s);
  });

  test('Linux cooked v1 capture on any (link type 113)', async () => {
    const s = await compareWithTshark(files.sll, LinkType.LINUX_SLL);
    assertRichCapture(s);
  });

  test('Linux cooked v2 capture on any (link type 276)', async () => {
    const s = await compareWithTshark(files.sll2, LinkType.LINUX_SLL2);
    assertRichCapture(s);
  });

  test('the same packets as NULL, LOOP, RAW, IPV4 and IPV6 captures', async () => {
    const packets = await readAll(files.eth);
    const dec = new PacketDecoder();
    const ips = packets.map((p) => {
      assert.ok(dec.decode(p.data, 0, p.caplen, p.linkType));
      return {
        tsNs: p.tsNs,
        version: dec.ipVersion,
        ip: Buffer.from(p.data.subarray(dec.ipOffset, dec.ipOffset + dec.ipTotalLength)),
      };
    });
    // (Linux's AF_INET6 = 10 never appears in NULL captures and tshark does not map it; unit-tested.)
    const v6Families = [24, 28, 30];
    const variants: Array<[string, number, (ip: Buffer, version: number, i: number) => Buffer | null]> = [
      [
        'null',
        LinkType.NULL,
        (ip, v, i) => {
          const h = Buffer.alloc(4);
          // Host order of an unknown writer: alternate little- and big-endian files' conventions.
          emitNull({ family: v === 4 ? 2 : v6Families[i % 3]!, bigEndian: i % 2 === 1 }, h, 0);
          return Buffer.concat([h, ip]);
        },
      ],
      [
        'loop',
        LinkType.LOOP,
        (ip, v) => {
          const h = Buffer.alloc(4);
          emitNull({ family: v === 4 ? 2 : 24, bigEndian: true }, h, 0);
          return Buffer.concat([h, ip]);
        },
      ],
      ['raw', LinkType.RAW, (ip) => ip],
      ['ipv4', LinkType.IPV4, (ip, v) => (v === 4 ? ip : null)],
      ['ipv6', LinkType.IPV6, (ip, v) => (v === 6 ? ip : null)],
    ];
    for (const [name, linkType, frame] of variants) {
      const chunks = [encodePcapHeader({ linkType })];
      let n = 0;
      ips.forEach((x, i) => {
        const data = frame(x.ip, x.version, i);
        if (data) {
          chunks.push(encodePcapRecord({ tsNs: x.tsNs, data }));
          n++;
        }
      });
      const file = join(dir, `${name}.pcap`);
      await writeFile(file, Buffer.concat(chunks));
      const s = await compareWithTshark(file, linkType);
      assert.equal(s.packets, n, name);
      assert.ok(n > 50, `${name}: ${n} packets`);
    }
  });
});
