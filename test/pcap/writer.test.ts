// Writers: the pure encoders produce the exact bytes of an independent builder; files written by
// PcapWriter/PcapngWriter are accepted by capinfos and tshark without a warning and read back (by
// tshark and by our reader) with the packets, lengths, ns timestamps, interfaces and flags written;
// backpressure is honoured and stream failures surface as CaptureWriteError.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CaptureWriteError,
  PcapWriter,
  PcapngWriter,
  encodeEnhancedPacketBlock,
  encodeInterfaceDescriptionBlock,
  encodePcapHeader,
  encodePcapRecord,
  encodeSectionHeaderBlock,
  openPcapWriter,
  openPcapngWriter,
} from '../../src/pcap/index.js';
import type { CaptureWriteErrorCode, PacketToWrite } from '../../src/pcap/index.js';
import { LinkType } from '../../src/packet/linktype.js';
import * as B from './build.js';
import { epochToNs, run, tsharkFields, withTmpDir } from './tools.js';
import { loadPackets, parsePackets } from '../support/captured.js';

const NS = 1_000_000_000n;

function expectWriteError(fn: () => unknown, code: CaptureWriteErrorCode): void {
  assert.throws(fn, (err: unknown) => err instanceof CaptureWriteError && err.code === code);
}

/** Packets with varied lengths and timestamps, including the extremes a format can hold. */
function samplePackets(n: number, interfaces: number): PacketToWrite[] {
  const out: PacketToWrite[] = [];
  for (let i = 0; i < n; i++) {
    const len = i === 0 ? 0 : (i * 53) % 400;
    const tsNs =
      i === 1 ? 0n : i === 2 ? 0xffffffffn * NS + 999_999_999n : 1_700_000_000n * NS + BigInt(i) * 1_234_567_891n;
    out.push({
      tsNs,
      data: B.payload(len, i),
      origLen: i % 4 === 0 ? len + 1000 : undefined,
      interfaceId: i % interfaces,
      direction: i % 3 === 0 ? 'inbound' : i % 3 === 1 ? 'outbound' : undefined,
      epbFlags: i % 10 === 5 ? 0x01000000 : undefined,
    });
  }
  return out;
}

async function checkTools(path: string, count: number): Promise<void> {
  const cap = await run('capinfos', ['-M', path]);
  assert.equal(cap.code, 0, `capinfos exit: ${cap.stderr}`);
  assert.equal(cap.stderr, '', 'capinfos stderr');
  assert.match(cap.stdout, new RegExp(`^Number of packets:\\s+${count}$`, 'm'));
}

void describe('encoders produce exact bytes', () => {
  void test('pcap header (ns and µs magic) and records (snaplen cut, origLen, timestamp split)', () => {
    assert.ok(
      encodePcapHeader({ linkType: LinkType.RAW, snaplen: 65535 }).equals(
        B.buildPcap({ endian: 'LE', nano: true, linkTypeField: 101, snaplen: 65535, records: [] }).bytes,
      ),
    );
    assert.ok(
      encodePcapHeader({ linkType: LinkType.LINUX_SLL2, nanosecond: false }).equals(
        B.buildPcap({ endian: 'LE', nano: false, linkTypeField: 276, snaplen: 262144, records: [] }).bytes,
      ),
    );
    const data = B.payload(100, 7);
    const ts = 1_712_345_678n * NS + 987_654_321n;
    const cases: [Buffer, Buffer][] = [
      [
        encodePcapRecord({ tsNs: ts, data }),
        B.buildPcap({
          endian: 'LE',
          nano: true,
          linkTypeField: 1,
          records: [{ sec: 1_712_345_678, frac: 987_654_321, data }],
        }).bytes,
      ],
      [
        encodePcapRecord({ tsNs: ts, data, origLen: 1500 }, 60),
        B.buildPcap({
          endian: 'LE',
          nano: true,
          linkTypeField: 1,
          records: [{ sec: 1_712_345_678, frac: 987_654_321, data: data.subarray(0, 60), origLen: 1500 }],
        }).bytes,
      ],
      [
        encodePcapRecord({ tsNs: ts, data }, 262144, false),
        B.buildPcap({
          endian: 'LE',
          nano: false,
          linkTypeField: 1,
          records: [{ sec: 1_712_345_678, frac: 987_654, data }],
        }).bytes,
      ],
    ];
    for (const [got, file] of cases) assert.ok(got.equals(file.subarray(24)), got.toString('hex'));
  });

  void test('pcapng SHB, IDB (if_tsresol 9) and EPB with and without epb_flags', () => {
    const l = 'LE' as const;
    assert.ok(encodeSectionHeaderBlock().equals(B.shb(l, [[4, B.str('tcpcopy')]])));
    assert.ok(
      encodeSectionHeaderBlock({ comment: 'c', hardware: 'hw', os: 'Linux', userAppl: 'app' }).equals(
        B.shb(l, [
          [1, B.str('c')],
          [2, B.str('hw')],
          [3, B.str('Linux')],
          [4, B.str('app')],
        ]),
      ),
    );
    assert.ok(encodeInterfaceDescriptionBlock({ linkType: 1 }).equals(B.idb(l, 1, 262144, [[9, B.byte(9)]])));
    assert.ok(
      encodeInterfaceDescriptionBlock({ linkType: 276, snaplen: 0, name: 'any', description: 'all' }).equals(
        B.idb(l, 276, 0, [
          [2, B.str('any')],
          [3, B.str('all')],
          [9, B.byte(9)],
        ]),
      ),
    );
    const data = B.payload(61, 3);
    const ts = 1_712_345_678_987_654_321n;
    assert.ok(encodeEnhancedPacketBlock({ tsNs: ts, data, interfaceId: 2 }).equals(B.epb(l, 2, ts, data)));
    assert.ok(
      encodeEnhancedPacketBlock({ tsNs: ts, data, origLen: 99, direction: 'outbound' }).equals(
        B.epb(l, 0, ts, data, 99, [[2, B.u32(2, l)]]),
      ),
    );
    assert.ok(
      encodeEnhancedPacketBlock({ tsNs: ts, data, direction: 'inbound', epbFlags: 0x40 }).equals(
        B.epb(l, 0, ts, data, 61, [[2, B.u32(0x41, l)]]),
      ),
    );
    assert.ok(
      encodeEnhancedPacketBlock({ tsNs: ts, data, origLen: 70 }, 32).equals(B.epb(l, 0, ts, data.subarray(0, 32), 70)),
    );
    assert.ok(encodeEnhancedPacketBlock({ tsNs: ts, data }, 0).equals(B.epb(l, 0, ts, data)));
  });

  void test('refused input: CaptureWriteError with a code', () => {
    const data = B.payload(10, 1);
    expectWriteError(() => encodePcapRecord({ tsNs: -1n, data }), 'BAD_TIMESTAMP');
    expectWriteError(() => encodePcapRecord({ tsNs: (0xffffffffn + 1n) * NS, data }), 'BAD_TIMESTAMP');
    expectWriteError(() => encodePcapRecord({ tsNs: 1n, data, origLen: 9 }), 'BAD_PACKET');
    expectWriteError(() => encodePcapRecord({ tsNs: 1n, data, origLen: 2 ** 32 }), 'BAD_PACKET');
    expectWriteError(() => encodePcapRecord({ tsNs: 1n, data, interfaceId: 1 }), 'BAD_INTERFACE');
    expectWriteError(() => encodeEnhancedPacketBlock({ tsNs: 1n << 64n, data }), 'BAD_TIMESTAMP');
    expectWriteError(() => encodeEnhancedPacketBlock({ tsNs: 1n, data, origLen: 1.5 }), 'BAD_PACKET');
    expectWriteError(() => encodePcapHeader({ linkType: 70000 }), 'BAD_OPTION');
    expectWriteError(() => encodeInterfaceDescriptionBlock({ linkType: 1, name: 'x'.repeat(70000) }), 'BAD_OPTION');
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const w = new PcapngWriter(sink, { interfaces: [{ linkType: 1 }] });
    expectWriteError(() => w.write({ tsNs: 1n, data, interfaceId: 1 }), 'BAD_INTERFACE');
    assert.equal(w.addInterface({ linkType: 101 }), 1);
    assert.equal(w.write({ tsNs: 1n, data, interfaceId: 1 }), true);
  });
});

void describe('written files in capinfos, tshark and our reader', () => {
  void test('pcap (ns and µs): accepted without warnings, same packets back', async () => {
    await withTmpDir(async (dir) => {
      for (const nanosecond of [true, false]) {
        const path = join(dir, `w-${nanosecond ? 'ns' : 'us'}.pcap`);
        const packets = samplePackets(600, 1).map((p) => ({ tsNs: p.tsNs, data: p.data, origLen: p.origLen }));
        const w = await openPcapWriter(path, { linkType: LinkType.EN10MB, snaplen: 200, nanosecond, bufferSize: 4096 });
        for (const p of packets) if (!w.write(p)) await w.drain();
        assert.equal(w.packets, 600);
        await w.close();
        await checkTools(path, 600);
        const t = await tsharkFields(path, ['frame.len', 'frame.cap_len', 'frame.time_epoch', 'frame.encap_type']);
        assert.equal(t.code, 0);
        assert.equal(t.stderr, '');
        assert.equal(t.rows.length, 600);
        const { info, packets: back } = await loadPackets(path);
        assert.equal(info.nanosecond, nanosecond);
        assert.equal(info.interfaces[0]?.snaplen, 200);
        packets.forEach((p, i) => {
          const caplen = Math.min(p.data.length, 200);
          const tsNs = nanosecond ? p.tsNs : (p.tsNs / 1000n) * 1000n;
          assert.deepEqual(t.rows[i], [String(p.origLen ?? p.data.length), String(caplen), (t.rows[i] ?? [])[2], '1']);
          assert.equal(epochToNs((t.rows[i] ?? [])[2] ?? ''), tsNs, `tshark time #${i}`);
          const b = back[i];
          assert.ok(b);
          assert.equal(b.tsNs, tsNs);
          assert.equal(b.caplen, caplen);
          assert.equal(b.origLen, p.origLen ?? p.data.length);
          assert.ok(b.data.equals(p.data.subarray(0, caplen)));
        });
      }
    });
  });

  void test('pcapng: interfaces with names and link types, epb_flags, snaplen cut; same packets back', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'w.pcapng');
      const ifaces = [
        { linkType: LinkType.EN10MB, name: 'eth0', description: 'first' },
        { linkType: LinkType.RAW, name: 'raw0', snaplen: 0 },
        { linkType: LinkType.LINUX_SLL2, name: 'any', snaplen: 128 },
      ];
      const packets = samplePackets(900, 4);
      const w = await openPcapngWriter(path, { interfaces: ifaces, userAppl: 'writer test', bufferSize: 8192 });
      assert.equal(w.addInterface({ linkType: LinkType.LINUX_SLL, name: 'lo' }), 3);
      for (const p of packets) if (!w.write(p)) await w.drain();
      await w.close();
      await checkTools(path, 900);
      const snap = [262144, 0, 128, 262144];
      const link = [1, 101, 276, 113];
      const wtap: Record<number, string> = { 1: '1', 101: '7', 276: '210', 113: '25' };
      const names = ['eth0', 'raw0', 'any', 'lo'];
      const t = await tsharkFields(path, [
        'frame.interface_id',
        'frame.interface_name',
        'frame.len',
        'frame.cap_len',
        'frame.time_epoch',
        'frame.encap_type',
        'frame.packet_flags',
      ]);
      assert.equal(t.code, 0);
      assert.equal(t.stderr, '');
      assert.equal(t.rows.length, 900);
      const { info, packets: back } = await loadPackets(path);
      assert.deepEqual(
        info.interfaces.map((i) => [i.linkType, i.name, i.snaplen, i.tsresol]),
        link.map((lt, i) => [lt, names[i], snap[i], 9]),
      );
      assert.equal(info.sections[0]?.userAppl, 'writer test');
      packets.forEach((p, i) => {
        const id = p.interfaceId ?? 0;
        const s = snap[id] ?? 0;
        const caplen = s !== 0 ? Math.min(p.data.length, s) : p.data.length;
        const flags = (p.epbFlags ?? 0) | (p.direction === 'inbound' ? 1 : p.direction === 'outbound' ? 2 : 0);
        const hasFlags = p.epbFlags !== undefined || p.direction !== undefined;
        const row = t.rows[i] ?? [];
        assert.deepEqual(
          row.slice(0, 4),
          [String(id), names[id], String(p.origLen ?? p.data.length), String(caplen)],
          `row ${i}`,
        );
        assert.equal(epochToNs(row[4] ?? ''), p.tsNs, `time ${i}`);
        assert.equal(row[5], wtap[link[id] ?? 0]);
        assert.equal(
          row[6] === '' ? undefined : parseInt(row[6] ?? '', 16),
          hasFlags ? flags : undefined,
          `flags ${i}`,
        );
        const b = back[i];
        assert.ok(b);
        assert.deepEqual(
          [b.interfaceId, b.linkType, b.tsNs, b.caplen, b.origLen, b.epbFlags],
          [id, link[id], p.tsNs, caplen, p.origLen ?? p.data.length, hasFlags ? flags : undefined],
        );
        assert.ok(b.data.equals(p.data.subarray(0, caplen)));
      });
    });
  });

  void test('the written file is exactly the concatenation of the encoders’ output', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'exact.pcapng');
      const packets = samplePackets(300, 2);
      const w = await openPcapngWriter(path, {
        interfaces: [
          { linkType: 1, name: 'a' },
          { linkType: 101, snaplen: 50 },
        ],
        bufferSize: 1000,
      });
      for (const p of packets) w.write(p);
      await w.close();
      const expected = Buffer.concat([
        encodeSectionHeaderBlock(),
        encodeInterfaceDescriptionBlock({ linkType: 1, name: 'a' }),
        encodeInterfaceDescriptionBlock({ linkType: 101, snaplen: 50 }),
        ...packets.map((p) => encodeEnhancedPacketBlock(p, p.interfaceId === 1 ? 50 : 262144)),
      ]);
      assert.ok((await readFile(path)).equals(expected));
      assert.equal((await stat(path)).size, expected.length);
    });
  });
});

void describe('streams', () => {
  class SlowSink extends Writable {
    readonly chunks: Buffer[] = [];
    constructor() {
      super({ highWaterMark: 4096 });
    }
    override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
      this.chunks.push(chunk);
      setTimeout(cb, 1);
    }
  }

  void test('write() reports backpressure; awaiting drain() keeps the stream buffer bounded', async () => {
    const sink = new SlowSink();
    const w = new PcapWriter(sink, { linkType: 1, bufferSize: 2048 });
    const packets = samplePackets(800, 1).map((p) => ({ tsNs: p.tsNs, data: p.data, origLen: p.origLen }));
    let waits = 0;
    let maxBuffered = 0;
    for (const p of packets) {
      if (!w.write(p)) {
        waits++;
        await w.drain();
      }
      maxBuffered = Math.max(maxBuffered, sink.writableLength);
    }
    await w.close();
    assert.ok(waits > 10, `waited ${waits} times`);
    // At most the stream's high-water mark plus one staging buffer (plus one record) is ever queued.
    assert.ok(maxBuffered <= 4096 + 2048 + 16 + 400, `max queued ${maxBuffered}`);
    const bytes = Buffer.concat(sink.chunks);
    assert.ok(
      bytes.equals(Buffer.concat([encodePcapHeader({ linkType: 1 }), ...packets.map((p) => encodePcapRecord(p))])),
    );
    assert.equal(parsePackets(bytes).packets.length, 800);
  });

  void test('flush() hands staged records to the stream before the buffer is full', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    const w = new PcapngWriter(sink, { interfaces: [{ linkType: 1 }] });
    w.write({ tsNs: 5n, data: B.payload(10, 1) });
    await new Promise((r) => setImmediate(r));
    assert.equal(chunks.length, 0, 'staged, not written yet');
    assert.equal(w.flush(), true);
    await new Promise((r) => setImmediate(r));
    assert.equal(parsePackets(Buffer.concat(chunks)).packets.length, 1);
    await w.close();
    expectWriteError(() => w.write({ tsNs: 5n, data: B.payload(10, 1) }), 'CLOSED');
  });

  void test('a failing stream: write() and close() raise CaptureWriteError CLOSED', async () => {
    const sink = new Writable({
      write(_c, _e, cb) {
        cb(new Error('disk full'));
      },
    });
    const w = new PcapWriter(sink, { linkType: 1, bufferSize: 64 });
    w.write({ tsNs: 1n, data: B.payload(100, 1) }); // flushes the header; the stream fails asynchronously
    await new Promise((r) => setImmediate(r));
    expectWriteError(() => w.write({ tsNs: 1n, data: B.payload(100, 2) }), 'CLOSED');
    await assert.rejects(
      w.drain(),
      (err: unknown) => err instanceof CaptureWriteError && err.code === 'CLOSED' && err.message.includes('disk full'),
    );
    await assert.rejects(w.close(), (err: unknown) => err instanceof CaptureWriteError && err.code === 'CLOSED');
  });

  void test('a stream destroyed by someone else releases a producer waiting in drain()', async () => {
    const sink = new Writable({ highWaterMark: 16, write: () => undefined }); // never completes a write
    const w = new PcapWriter(sink, { linkType: 1, bufferSize: 64 });
    assert.equal(w.write({ tsNs: 1n, data: B.payload(100, 1) }), false);
    const waiting = w.drain();
    sink.destroy();
    await assert.rejects(waiting, (err: unknown) => err instanceof CaptureWriteError && err.code === 'CLOSED');
  });

  void test('openPcapWriter on a missing directory rejects before anything is written', async () => {
    await withTmpDir(async (dir) => {
      await assert.rejects(
        openPcapWriter(join(dir, 'no', 'such.pcap'), { linkType: 1 }),
        (err: unknown) => (err as { code?: string }).code === 'ENOENT',
      );
      await assert.rejects(
        openPcapngWriter(join(dir, 'x.pcapng'), { interfaces: [{ linkType: -1 }] }),
        CaptureWriteError,
      );
      assert.deepEqual(await readdir(dir), []);
    });
  });
});
