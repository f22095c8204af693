// Reader tests on byte-exact files built by test/pcap/build.ts: pcap in both byte orders and both
// resolutions, pcapng with several sections, interfaces, tsresol forms, if_tsoffset, SPB, PB and
// skipped blocks, and the same packets whatever the chunking.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaptureFileParser, readCaptureFile, readCaptureStream } from '../../src/pcap/index.js';
import { LinkType } from '../../src/packet/linktype.js';
import * as B from './build.js';
import { withTmpDir } from './tools.js';
import { fastViews } from '../../src/packet/buffer-view.js';
import { craftedPcapng } from './fixtures.js';
import type { Expect } from './fixtures.js';
import { packetsOf, parsePackets } from '../support/captured.js';
import type { PacketFields } from '../support/captured.js';

const NS = 1_000_000_000n;

function check(got: PacketFields[], want: Expect[]): void {
  assert.equal(got.length, want.length, 'packet count');
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as PacketFields;
    const w = want[i] as Expect;
    assert.equal(g.caplen, w.data.length, `caplen #${i}`);
    assert.equal(g.data.length, w.data.length, `data length #${i}`);
    assert.ok(g.data.equals(w.data), `data #${i}`);
    assert.equal(g.origLen, w.origLen, `origLen #${i}`);
    assert.equal(g.tsNs, w.tsNs, `tsNs #${i}`);
    assert.equal(g.linkType, w.linkType, `linkType #${i}`);
    assert.equal(g.interfaceId, w.interfaceId, `interfaceId #${i}`);
    assert.equal(g.epbFlags, w.epbFlags, `epbFlags #${i}`);
  }
}

/** Deterministic chunk sizes 1..maxChunk. */
function chunks(buf: Buffer, seed: number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  let x = seed >>> 0 || 1;
  let off = 0;
  while (off < buf.length) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const n = 1 + (x % maxChunk);
    // Copies, so the parser can only rely on what it was handed.
    out.push(Buffer.from(buf.subarray(off, off + n)));
    off += n;
  }
  return out;
}

function parseChunked(parts: Buffer[]): PacketFields[] {
  const p = new CaptureFileParser({ file: 'chunked' });
  const got: PacketFields[] = [];
  for (const c of parts) got.push(...packetsOf(p.push(c)));
  p.end();
  return got;
}

void describe('pcap reader', () => {
  void test('a µs fraction of a second or more carries into the seconds', () => {
    const { bytes } = B.buildPcap({
      endian: 'LE',
      nano: false,
      linkTypeField: 1,
      records: [{ sec: 10, frac: 2_500_000, data: B.payload(4, 1) }],
    });
    assert.equal(parsePackets(bytes).packets[0]?.tsNs, 12_500_000_000n);
  });

  const recs = [
    { sec: 1_700_000_000, frac: 0, data: B.payload(60, 1) },
    { sec: 1_700_000_000, frac: 999_999, data: B.payload(1, 2), origLen: 1514 },
    { sec: 0xffffffff, frac: 123_456, data: B.payload(0, 3) },
    { sec: 1_712_345_678, frac: 42, data: B.payload(333, 4), origLen: 400 },
  ];
  for (const endian of ['LE', 'BE'] as const) {
    for (const nano of [false, true]) {
      void test(`${endian} ${nano ? 'ns' : 'µs'} magic: header facts and every record`, () => {
        const r = nano ? recs.map((x) => ({ ...x, frac: x.frac * 1000 + 7 })) : recs;
        const { bytes } = B.buildPcap({ endian, nano, linkTypeField: LinkType.LINUX_SLL, snaplen: 4096, records: r });
        const { info, packets } = parsePackets(bytes, 'x.pcap');
        assert.equal(info.format, 'pcap');
        assert.equal(info.byteOrder, endian);
        assert.equal(info.nanosecond, nano);
        assert.equal(info.packets, r.length);
        assert.equal(info.bytes, bytes.length);
        assert.equal(info.sections.length, 1);
        assert.equal(info.sections[0]?.versionMajor, 2);
        assert.equal(info.sections[0]?.versionMinor, 4);
        assert.deepEqual(
          info.interfaces.map((i) => [i.id, i.linkType, i.snaplen, i.tsresol, i.unitsPerSecond, i.fcsBytes]),
          [[0, LinkType.LINUX_SLL, 4096, nano ? 9 : 6, nano ? NS : 1_000_000n, undefined]],
        );
        check(
          packets,
          r.map((x) => ({
            data: x.data,
            origLen: x.origLen ?? x.data.length,
            tsNs: BigInt(x.sec) * NS + BigInt(x.frac) * (nano ? 1n : 1000n),
            linkType: LinkType.LINUX_SLL,
            interfaceId: 0,
          })),
        );
      });
    }
  }

  void test('link-type field: FCS bits in the upper 16 bits are masked off and reported', () => {
    const cases: [field: number, linkType: number, fcs: number | undefined][] = [
      [0x24000001, LinkType.EN10MB, 4], // P bit + FCS len 2 words
      [0x14000071, LinkType.LINUX_SLL, 2], // P bit + 1 word
      [0x10000065, LinkType.RAW, undefined], // length bits without the P bit: unknown
      [0x00ff0114, LinkType.LINUX_SLL2, undefined], // reserved bits
    ];
    for (const [field, linkType, fcs] of cases) {
      for (const endian of ['LE', 'BE'] as const) {
        const { bytes } = B.buildPcap({
          endian,
          nano: false,
          linkTypeField: field,
          records: [{ sec: 1, frac: 2, data: B.payload(20, 9) }],
        });
        const { info, packets } = parsePackets(bytes);
        assert.equal(info.interfaces[0]?.linkType, linkType);
        assert.equal(info.interfaces[0]?.fcsBytes, fcs);
        assert.equal(packets[0]?.linkType, linkType);
      }
    }
  });

  void test('packet data are genuine Buffers sharing the chunk memory (no copy)', () => {
    const { bytes } = B.buildPcap({
      endian: 'LE',
      nano: true,
      linkTypeField: 1,
      records: [
        { sec: 1, frac: 2, data: B.payload(40, 1) },
        { sec: 3, frac: 4, data: B.payload(50, 2) },
      ],
    });
    const chunk = Buffer.from(bytes);
    const batches = new CaptureFileParser().push(chunk);
    assert.equal(batches.length, 1, 'one run of one interface in one chunk: one batch');
    const batch = batches[0]!;
    assert.equal(batch.buffer, chunk, 'the batch is over the chunk itself');
    assert.equal(batch.count, 2);
    for (const [i, off, len] of [
      [0, 24 + 16, 40],
      [1, 24 + 16 + 40 + 16, 50],
    ] as const) {
      const data = batch.data(i);
      assert.equal(batch.offset(i), off);
      assert.ok(Buffer.isBuffer(data));
      assert.equal(Object.getPrototypeOf(data), Buffer.prototype);
      assert.equal(data.buffer, chunk.buffer);
      assert.equal(data.byteOffset, chunk.byteOffset + off);
      assert.equal(data.length, len);
      assert.ok(Buffer.isBuffer(data.subarray(1)));
    }
    assert.equal(fastViews, true, 'the fast view path is active on this Node');
  });

  void test('version 2.3 is read; a header-only file has no packets', () => {
    const { bytes } = B.buildPcap({ endian: 'LE', nano: false, linkTypeField: 1, versionMinor: 3, records: [] });
    const { info, packets } = parsePackets(bytes);
    assert.equal(packets.length, 0);
    assert.equal(info.sections[0]?.versionMinor, 3);
    assert.equal(info.bytes, 24);
  });

  void test('10 000 records read the same in one buffer, 1-byte chunks and random chunks', () => {
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      sec: 1_700_000_000 + Math.floor(i / 7),
      frac: (i * 7919) % 1_000_000_000,
      data: B.payload(i % 97, i),
      origLen: (i % 97) + (i % 3),
    }));
    const { bytes } = B.buildPcap({ endian: 'BE', nano: true, linkTypeField: 1, records });
    const want = records.map((r) => ({
      data: r.data,
      origLen: r.origLen,
      tsNs: BigInt(r.sec) * NS + BigInt(r.frac),
      linkType: 1,
      interfaceId: 0,
    }));
    check(parsePackets(bytes).packets, want);
    check(parseChunked(chunks(bytes, 7, 5000)), want);
    check(parseChunked(chunks(bytes, 11, 40)), want);
    check(parseChunked(chunks(bytes, 1, 1)), want);
  });
});

void describe('pcapng reader', () => {
  const { blocks, bytes: file, want } = craftedPcapng();
  const e = 'BE' as const;
  const l = 'LE' as const;
  const d = B.payload;

  void test('batches: one per run of packets of one interface in one buffer; a straddling record its own', () => {
    const batches = new CaptureFileParser().push(file);
    check(packetsOf(batches), want);
    for (let i = 1; i < batches.length; i++)
      assert.notEqual(batches[i]!.interfaceId, batches[i - 1]!.interfaceId, `batch ${i}`);
    for (const b of batches) assert.equal(b.buffer, file);
    let bridges = 0;
    for (let cut = 1; cut < file.length; cut++) {
      const p = new CaptureFileParser();
      const [first, second] = [file.subarray(0, cut), file.subarray(cut)];
      const halves = [...p.push(first), ...p.push(second)];
      check(packetsOf(halves), want);
      // A packet block cut in two is read from a buffer of its own.
      for (const b of halves) if (b.buffer !== first && b.buffer !== second) bridges += b.count;
    }
    assert.ok(bridges > 0);
  });

  void test('sections, interfaces, options and every packet block type', () => {
    const { info, packets } = parsePackets(file, 'craft.pcapng');
    check(packets, want);
    assert.equal(info.format, 'pcapng');
    assert.equal(info.byteOrder, 'BE');
    assert.equal(info.packets, want.length);
    assert.equal(info.bytes, file.length);
    assert.equal(info.skippedBlocks, 6);
    const offs = B.offsetsOf(blocks);
    assert.deepEqual(
      info.sections.map((s) => [
        s.index,
        s.offset,
        s.byteOrder,
        s.versionMajor,
        s.versionMinor,
        s.sectionLength,
        s.userAppl,
        s.hardware,
        s.os,
        s.interfaceIds,
      ]),
      [
        [0, offs[0], 'BE', 1, 0, -1n, 'craft-app', 'hw', 'os', [0, 1]],
        [1, offs[13], 'LE', 1, 0, -1n, undefined, undefined, undefined, [2, 3, 4]],
      ],
    );
    assert.deepEqual(
      info.interfaces.map((i) => [
        i.id,
        i.section,
        i.sectionInterfaceId,
        i.linkType,
        i.snaplen,
        i.name,
        i.description,
        i.tsresol,
        i.unitsPerSecond,
        i.tsOffsetSec,
      ]),
      [
        [0, 0, 0, LinkType.EN10MB, 0, 'eth0', 'first NIC', 6, 1_000_000n, 0n],
        [1, 0, 1, LinkType.RAW, 64, 'raw0', undefined, 0x80 | 20, 1n << 20n, 100n],
        [2, 1, 0, LinkType.LINUX_SLL2, 262144, 'any', undefined, 9, NS, 0n],
        [3, 1, 1, LinkType.NULL, 0, undefined, undefined, 12, 1_000_000_000_000n, -5n],
        [4, 1, 2, LinkType.LOOP, 0, undefined, undefined, 3, 1000n, 0n],
      ],
    );
  });

  void test('every chunking gives the same packets, and views stay valid after later chunks', () => {
    check(parseChunked(chunks(file, 3, 1)), want);
    for (let seed = 1; seed <= 20; seed++) check(parseChunked(chunks(file, seed, 1 + seed * 13)), want);
  });

  void test('Simple Packet Block: caplen = min(origLen, snaplen, room in the block)', () => {
    const cases: { snaplen: number; origLen: number; stored: number; caplen: number }[] = [
      { snaplen: 0, origLen: 70, stored: 70, caplen: 70 }, // padding is not data
      { snaplen: 64, origLen: 70, stored: 70, caplen: 64 }, // cut to snaplen
      { snaplen: 0, origLen: 1500, stored: 100, caplen: 100 }, // cut by the block
      { snaplen: 96, origLen: 1500, stored: 200, caplen: 96 },
      { snaplen: 0, origLen: 0, stored: 0, caplen: 0 },
    ];
    for (const c of cases) {
      for (const endian of ['LE', 'BE'] as const) {
        const stored = d(c.stored, c.stored);
        const buf = Buffer.concat([
          B.shb(endian),
          B.idb(endian, LinkType.RAW, c.snaplen),
          B.spb(endian, c.origLen, stored),
        ]);
        const [p] = parsePackets(buf).packets;
        assert.ok(p);
        assert.equal(p.caplen, c.caplen, JSON.stringify(c));
        assert.equal(p.origLen, c.origLen);
        assert.ok(p.data.equals(stored.subarray(0, c.caplen)));
        assert.equal(p.tsNs, 0n);
      }
    }
  });

  void test('interface ids restart in every section; an IDB may follow packets', () => {
    const buf = Buffer.concat([
      B.shb(l),
      B.idb(l, LinkType.EN10MB, 0),
      B.epb(l, 0, 1n, d(10, 1)),
      B.idb(l, LinkType.RAW, 0, [[9, B.byte(9)]]),
      B.epb(l, 1, 2n, d(11, 2)),
      B.shb(e),
      B.idb(e, LinkType.LINUX_SLL, 0, [[9, B.byte(0)]]),
      B.epb(e, 0, 3n, d(12, 3)),
    ]);
    const { info, packets } = parsePackets(buf);
    assert.deepEqual(
      packets.map((p) => [p.interfaceId, p.linkType, p.tsNs, p.caplen]),
      [
        [0, LinkType.EN10MB, 1000n, 10],
        [1, LinkType.RAW, 2n, 11],
        [2, LinkType.LINUX_SLL, 3n * NS, 12],
      ],
    );
    assert.deepEqual(
      info.sections.map((s) => s.interfaceIds),
      [[0, 1], [2]],
    );
  });

  void test('64-bit timestamps: high word beyond 2^21 and the full 2^64-1 range in ns and µs', () => {
    const max = (1n << 64n) - 1n;
    const buf = Buffer.concat([
      B.shb(l),
      B.idb(l, 1, 0, [[9, B.byte(9)]]),
      B.idb(l, 1, 0),
      B.epb(l, 0, max, d(4, 1)),
      B.epb(l, 0, (0x200000n << 32n) + 5n, d(4, 2)),
      B.epb(l, 0, (0x1fffffn << 32n) + 0xffffffffn, d(4, 3)),
      B.epb(l, 1, max, d(4, 4)),
      B.idb(l, 1, 0, [[9, B.byte(12)]]),
      B.epb(l, 2, 12_345_678_901_234_567n, d(4, 5)), // ps with a remainder whose product with 10^9 exceeds 2^64
    ]);
    assert.deepEqual(
      parsePackets(buf).packets.map((p) => p.tsNs),
      [max, (0x200000n << 32n) + 5n, (0x1fffffn << 32n) + 0xffffffffn, max * 1000n, 12_345_678_901_234n],
    );
  });

  void test('readCaptureFile streams a file in small chunks; readCaptureStream reads any Readable', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'craft.pcapng');
      await writeFile(path, file);
      const reader = readCaptureFile(path, { chunkSize: 7 });
      const got: PacketFields[] = [];
      for await (const b of reader) got.push(...packetsOf([b]));
      check(got, want);
      assert.equal(reader.info?.interfaces.length, 5);
      assert.equal(reader.info?.bytes, file.length);

      const batches: number[] = [];
      const r2 = readCaptureStream(Readable.from(chunks(file, 5, 300)), 'stream');
      const got2: PacketFields[] = [];
      for await (const batch of r2) {
        batches.push(batch.count);
        got2.push(...packetsOf([batch]));
      }
      check(got2, want);
      assert.ok(batches.every((n) => n > 0));
      assert.ok(batches.length > 1);
    });
  });

  void test('breaking out of the iteration stops reading and closes the file', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'big.pcap');
      const records = Array.from({ length: 5000 }, (_, i) => ({ sec: i, frac: 0, data: d(100, i) }));
      await writeFile(path, B.buildPcap({ endian: 'LE', nano: false, linkTypeField: 1, records }).bytes);
      const reader = readCaptureFile(path, { chunkSize: 4096 });
      let n = 0;
      for await (const b of reader) {
        for (let i = 0; i < b.count && n < 10; i++, n++) assert.equal(b.tsNs(i), BigInt(n) * NS);
        if (n === 10) break;
      }
      assert.equal(n, 10);
      assert.ok((reader.info?.bytes ?? 0) < 3 * 4096, 'read only the first chunks');
    });
  });
});
