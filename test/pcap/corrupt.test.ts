// Corrupt and truncated input: files cut at every offset, block lengths changed, bad magics, versions,
// interfaces, captured lengths and options, and random mutations. Every failure must be a
// CaptureFileError with the right code, the offset of the bad structure, and the file name.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaptureFileError, CaptureFileParser, parseCaptureBuffer, readCaptureFile } from '../../src/pcap/index.js';
import type { CaptureFileErrorCode } from '../../src/pcap/index.js';
import { LinkType } from '../../src/packet/linktype.js';
import * as B from './build.js';
import { craftedPcapng } from './fixtures.js';
import { withTmpDir } from './tools.js';
import { packetsOf } from '../support/captured.js';
import type { PacketFields } from '../support/captured.js';

function expectError(
  fn: () => unknown,
  code: CaptureFileErrorCode,
  offset: number,
  file: string,
  message?: string,
): CaptureFileError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CaptureFileError, `expected CaptureFileError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.offset, offset, caught.message);
  assert.equal(caught.file, file);
  assert.ok(caught.message.startsWith(`${file}: `), caught.message);
  assert.ok(caught.message.includes(` at byte offset ${offset}`), caught.message);
  if (message !== undefined) assert.equal(caught.message, message);
  return caught;
}

const plural = (n: number): string => `${n} more byte${n === 1 ? '' : 's'}`;

const BLOCK_NAMES: Record<number, string> = {
  0x0a0d0d0a: 'Section Header Block',
  1: 'Interface Description Block',
  6: 'Enhanced Packet Block',
  3: 'Simple Packet Block',
  2: 'Packet Block',
};
const MIN_LEN: Record<number, number> = { 0x0a0d0d0a: 28, 1: 20, 6: 32, 3: 16, 2: 32 };
const PACKET_BLOCKS = new Set([2, 3, 6]);

// ------------------------------------------------------------------ fixtures

const pcapRecords = [0, 1, 60, 3, 1514, 17, 0, 99].map((n, i) => ({
  sec: 1_700_000_000 + i,
  frac: i * 11,
  data: B.payload(n, i),
}));
const pcap = B.buildPcap({ endian: 'LE', nano: false, linkTypeField: LinkType.EN10MB, records: pcapRecords });

const ng = craftedPcapng();
const ngOffsets = B.offsetsOf(ng.blocks);
/** Byte order of each crafted block (section 0 is big-endian, section 1 little-endian). */
const ngEndian = ng.blocks.map((_, i): B.Endian => (i < 13 ? 'BE' : 'LE'));
const typeOf = (i: number): number => {
  const b = ng.blocks[i] as Buffer;
  return ngEndian[i] === 'LE' ? b.readUInt32LE(0) : b.readUInt32BE(0);
};

void describe('truncated files', () => {
  void test('pcap cut at every offset: whole records are returned, a partial one is TRUNCATED at its start', () => {
    const { bytes, recordOffsets } = pcap;
    const full = packetsOf(parseCaptureBuffer(bytes, 'cut.pcap'));
    for (let k = 0; k <= bytes.length; k++) {
      const cut = bytes.subarray(0, k);
      const idx = recordOffsets.findIndex((off, i) => off <= k && k < (recordOffsets[i + 1] ?? bytes.length));
      if (k === bytes.length || (k >= 24 && recordOffsets[idx] === k) || (k === 24 && recordOffsets.length === 0)) {
        const got = packetsOf(parseCaptureBuffer(cut, 'cut.pcap'));
        assert.equal(got.length, k === bytes.length ? full.length : idx, `cut at ${k}`);
        got.forEach((p, i) => assert.ok(p.data.equals((full[i] as PacketFields).data)));
        continue;
      }
      let what: string;
      let at: number;
      let needs: number;
      if (k < 4) [what, at, needs] = ['file magic', 0, 4 - k];
      else if (k < 24) [what, at, needs] = ['pcap file header', 0, 24 - k];
      else {
        const start = recordOffsets[idx] as number;
        const rem = k - start;
        const caplen = (pcapRecords[idx] as { data: Buffer }).data.length;
        [what, at, needs] =
          rem < 16 ? ['packet record header', start, 16 - rem] : ['packet record', start, 16 + caplen - rem];
      }
      expectError(
        () => parseCaptureBuffer(cut, 'cut.pcap'),
        'TRUNCATED',
        at,
        'cut.pcap',
        `cut.pcap: truncated ${what} at byte offset ${at} (needs ${plural(needs)})`,
      );
    }
  });

  void test('pcapng cut at every offset: whole blocks are read, a partial one is TRUNCATED at its start', () => {
    const bytes = ng.bytes;
    const full = packetsOf(parseCaptureBuffer(bytes, 'cut.pcapng'));
    for (let k = 0; k <= bytes.length; k++) {
      const cut = bytes.subarray(0, k);
      const idx = ngOffsets.findIndex((off, i) => off <= k && k < (ngOffsets[i + 1] ?? Infinity));
      const start = ngOffsets[idx] as number;
      if (k === bytes.length || (k > 0 && start === k)) {
        const blocksBefore = k === bytes.length ? ng.blocks.length : idx;
        let n = 0;
        for (let i = 0; i < blocksBefore; i++) if (PACKET_BLOCKS.has(typeOf(i))) n++;
        const got = packetsOf(parseCaptureBuffer(cut, 'cut.pcapng'));
        assert.equal(got.length, n, `cut at ${k}`);
        got.forEach((p, i) => assert.ok(p.data.equals((full[i] as PacketFields).data)));
        continue;
      }
      const rem = k - start;
      const len = (ng.blocks[idx] as Buffer).length;
      const type = typeOf(idx);
      let what: string;
      let needs: number;
      if (k < 4) [what, needs] = ['file magic', 4 - k];
      else if (rem < 12) [what, needs] = ['block header', 12 - rem];
      else [what, needs] = [BLOCK_NAMES[type] ?? `block of type 0x${type.toString(16)}`, len - rem];
      expectError(
        () => parseCaptureBuffer(cut, 'cut.pcapng'),
        'TRUNCATED',
        start,
        'cut.pcapng',
        `cut.pcapng: truncated ${what} at byte offset ${start} (needs ${plural(needs)})`,
      );
    }
  });

  void test('truncation is reported by end(), after the complete packets, whatever the chunking', () => {
    const cut = pcap.bytes.subarray(0, (pcap.recordOffsets[5] as number) + 20);
    const p = new CaptureFileParser({ file: 'stream' });
    let n = 0;
    for (let i = 0; i < cut.length; i += 9) for (const b of p.push(cut.subarray(i, i + 9))) n += b.count;
    assert.equal(n, 5);
    expectError(() => p.end(), 'TRUNCATED', pcap.recordOffsets[5] as number, 'stream');
    // The failure sticks.
    expectError(() => p.end(), 'TRUNCATED', pcap.recordOffsets[5] as number, 'stream');
    expectError(() => p.push(Buffer.alloc(1)), 'TRUNCATED', pcap.recordOffsets[5] as number, 'stream');
  });

  void test('empty input and push after end()', () => {
    expectError(
      () => parseCaptureBuffer(Buffer.alloc(0), 'empty.pcap'),
      'TRUNCATED',
      0,
      'empty.pcap',
      'empty.pcap: truncated file magic at byte offset 0 (needs 4 more bytes)',
    );
    const p = new CaptureFileParser({ file: 'f' });
    p.push(pcap.bytes);
    p.end();
    expectError(() => p.push(Buffer.alloc(4)), 'ENDED', pcap.bytes.length, 'f');
  });

  void test('readCaptureFile rejects a truncated file with the path and offset', async () => {
    await withTmpDir(async (dir) => {
      const path = join(dir, 'trace.pcap');
      const at = pcap.recordOffsets[4] as number;
      await writeFile(path, pcap.bytes.subarray(0, at + 16 + 60));
      let n = 0;
      await assert.rejects(
        (async () => {
          for await (const b of readCaptureFile(path, { chunkSize: 64 })) n += b.count;
        })(),
        (err: unknown) => {
          assert.ok(err instanceof CaptureFileError);
          assert.equal(err.code, 'TRUNCATED');
          assert.equal(
            err.message,
            `${path}: truncated packet record at byte offset ${at} (needs ${1514 - 60} more bytes)`,
          );
          return true;
        },
      );
      assert.equal(n, 4);
    });
  });
});

void describe('bad block lengths', () => {
  function withLength(i: number, value: number, trailer = false): Buffer {
    const copy = Buffer.from(ng.bytes);
    const start = ngOffsets[i] as number;
    const len = (ng.blocks[i] as Buffer).length;
    const at = trailer ? start + len - 4 : start + 4;
    if (ngEndian[i] === 'LE') copy.writeUInt32LE(value >>> 0, at);
    else copy.writeUInt32BE(value >>> 0, at);
    return copy;
  }
  const u32At = (i: number, off: number): number =>
    ngEndian[i] === 'LE' ? ng.bytes.readUInt32LE(off) : ng.bytes.readUInt32BE(off);

  void test('every block: unaligned, too small, huge, ±4 and a changed trailer', () => {
    const file = 'len.pcapng';
    for (let i = 0; i < ng.blocks.length; i++) {
      const start = ngOffsets[i] as number;
      const len = (ng.blocks[i] as Buffer).length;
      const min = MIN_LEN[typeOf(i)] ?? 12;
      for (const v of [len + 1, len + 2, len - 1, 0, 8, min - 4, 0x7ffffffc, 0xfffffff0]) {
        expectError(() => parseCaptureBuffer(withLength(i, v), file), 'BAD_BLOCK_LENGTH', start, file);
      }
      // Longer by 4: beyond the end of the file → truncated; otherwise the trailer disagrees.
      if (start + len + 4 > ng.bytes.length) {
        expectError(() => parseCaptureBuffer(withLength(i, len + 4), file), 'TRUNCATED', start, file);
      } else {
        assert.notEqual(u32At(i, start + len), len + 4, 'fixture precondition');
        const err = expectError(
          () => parseCaptureBuffer(withLength(i, len + 4), file),
          'BAD_BLOCK_LENGTH',
          start,
          file,
        );
        assert.ok(err.message.includes(`leading ${len + 4}, trailing `), err.message);
      }
      if (len - 4 >= min) {
        assert.notEqual(u32At(i, start + len - 8), len - 4, 'fixture precondition');
        expectError(() => parseCaptureBuffer(withLength(i, len - 4), file), 'BAD_BLOCK_LENGTH', start, file);
      }
      const err = expectError(
        () => parseCaptureBuffer(withLength(i, len + 4, true), file),
        'BAD_BLOCK_LENGTH',
        start,
        file,
      );
      assert.ok(err.message.includes(`(leading ${len}, trailing ${len + 4})`), err.message);
    }
  });

  void test('a custom maximum block size is enforced', () => {
    const p = new CaptureFileParser({ file: 'm', maxBlockBytes: 64 });
    const biggest = ng.blocks.findIndex((b) => b.length > 64);
    expectError(() => p.push(ng.bytes), 'BAD_BLOCK_LENGTH', ngOffsets[biggest] as number, 'm');
  });
});

void describe('other structural errors', () => {
  const l = 'LE' as const;
  const e = 'BE' as const;

  void test('BAD_MAGIC: not a capture file, and an SHB with an unknown byte-order magic', () => {
    expectError(
      () => parseCaptureBuffer(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 'http.txt'),
      'BAD_MAGIC',
      0,
      'http.txt',
      'http.txt: not a pcap or pcapng file at byte offset 0 (magic 0x20544547)',
    );
    expectError(() => parseCaptureBuffer(Buffer.from('a1b2c3d5', 'hex'), 'x'), 'BAD_MAGIC', 0, 'x');
    const good = Buffer.concat([B.shb(l), B.idb(l, 1, 0), B.epb(l, 0, 1n, B.payload(8, 1))]);
    const second = Buffer.concat([good, B.shb(e)]);
    second.writeUInt32BE(0x1a2b3c4e, good.length + 8);
    expectError(() => parseCaptureBuffer(second, 's'), 'BAD_MAGIC', good.length, 's');
  });

  void test('BAD_VERSION: pcap major 3 or 1, pcapng major 2', () => {
    for (const major of [1, 3]) {
      const { bytes } = B.buildPcap({ endian: 'BE', nano: true, linkTypeField: 1, versionMajor: major, records: [] });
      expectError(() => parseCaptureBuffer(bytes, 'v.pcap'), 'BAD_VERSION', 4, 'v.pcap');
    }
    const ngv = Buffer.concat([B.shb(l), B.idb(l, 1, 0), B.shb(l, [], [2, 0])]);
    expectError(() => parseCaptureBuffer(ngv, 'v.pcapng'), 'BAD_VERSION', ngv.length - 28, 'v.pcapng');
  });

  void test('BAD_INTERFACE: EPB, PB and SPB naming an interface that was not declared (ids restart per section)', () => {
    const d = B.payload(10, 1);
    const head = Buffer.concat([B.shb(l), B.idb(l, 1, 0)]);
    expectError(
      () => parseCaptureBuffer(Buffer.concat([head, B.epb(l, 1, 0n, d)]), 'i'),
      'BAD_INTERFACE',
      head.length,
      'i',
    );
    expectError(
      () => parseCaptureBuffer(Buffer.concat([head, B.pb(l, 7, 0n, d)]), 'i'),
      'BAD_INTERFACE',
      head.length,
      'i',
    );
    expectError(() => parseCaptureBuffer(Buffer.concat([B.shb(e), B.spb(e, 10, d)]), 'i'), 'BAD_INTERFACE', 28, 'i');
    const two = Buffer.concat([head, B.shb(e)]);
    expectError(
      () => parseCaptureBuffer(Buffer.concat([two, B.epb(e, 0, 0n, d)]), 'i'),
      'BAD_INTERFACE',
      two.length,
      'i',
    );
  });

  void test('CAPLEN_EXCEEDS: EPB/PB caplen beyond the block, pcap caplen beyond the maximum', () => {
    const head = Buffer.concat([B.shb(l), B.idb(l, 1, 0)]);
    const bad = B.epb(l, 0, 0n, B.payload(12, 1), 12, [], 13);
    expectError(() => parseCaptureBuffer(Buffer.concat([head, bad]), 'c'), 'CAPLEN_EXCEEDS', head.length, 'c');
    const badPb = B.pb(l, 0, 0n, B.payload(12, 1));
    badPb.writeUInt32LE(100, 20);
    expectError(() => parseCaptureBuffer(Buffer.concat([head, badPb]), 'c'), 'CAPLEN_EXCEEDS', head.length, 'c');
    const copy = Buffer.from(pcap.bytes);
    const at = pcap.recordOffsets[3] as number;
    copy.writeUInt32LE(0x7fffffff, at + 8);
    expectError(
      () => parseCaptureBuffer(copy, 'c.pcap'),
      'CAPLEN_EXCEEDS',
      at,
      'c.pcap',
      `c.pcap: packet record with an implausible captured length at byte offset ${at} (caplen 2147483647 > maximum 16777216)`,
    );
    const small = new CaptureFileParser({ file: 's.pcap', maxBlockBytes: 1000 });
    expectError(() => small.push(pcap.bytes), 'CAPLEN_EXCEEDS', pcap.recordOffsets[4] as number, 's.pcap');
  });

  void test('BAD_OPTION: an option running past its block, bad if_tsresol / if_tsoffset / epb_flags lengths', () => {
    const head = B.shb(l);
    const overrun = B.idb(l, 1, 0, [[2, B.str('eth0')]]);
    overrun.writeUInt16LE(200, 16 + 2); // if_name length
    expectError(() => parseCaptureBuffer(Buffer.concat([head, overrun]), 'o'), 'BAD_OPTION', head.length + 16, 'o');
    for (const opt of [
      [9, Buffer.from([6, 0])],
      [9, B.byte(20)],
      [9, B.byte(0x80 | 64)],
      [14, B.u32(1, l)],
    ] as B.OptionSpec[]) {
      const idb = B.idb(l, 1, 0, [[2, B.str('ab')], opt]);
      expectError(() => parseCaptureBuffer(Buffer.concat([head, idb]), 'o'), 'BAD_OPTION', head.length + 16 + 8, 'o');
    }
    const hi = Buffer.concat([head, B.idb(l, 1, 0)]);
    const epb = B.epb(l, 0, 0n, B.payload(5, 1), 5, [[2, Buffer.from([1, 0])]]);
    expectError(() => parseCaptureBuffer(Buffer.concat([hi, epb]), 'o'), 'BAD_OPTION', hi.length + 28 + 8, 'o');
  });
});

void describe('random corruption', () => {
  void test('4000 random mutations: the reader returns packets or throws CaptureFileError, nothing else', () => {
    let x = 0x9e3779b9;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const sources = [
      ng.bytes,
      pcap.bytes,
      B.buildPcap({ endian: 'BE', nano: true, linkTypeField: 1, records: pcapRecords }).bytes,
    ];
    const codes = new Map<string, number>();
    for (let iter = 0; iter < 4000; iter++) {
      const src = sources[iter % sources.length] as Buffer;
      const buf = Buffer.from(src.subarray(0, rnd(4) === 0 ? rnd(src.length + 1) : src.length));
      const flips = 1 + rnd(4);
      for (let f = 0; f < flips && buf.length > 0; f++) {
        const at = rnd(buf.length);
        buf[at] = rnd(3) === 0 ? 0xff : rnd(256);
      }
      const chunkSize = 1 + rnd(64);
      try {
        const p = new CaptureFileParser({ file: 'fuzz' });
        for (let i = 0; i < buf.length; i += chunkSize) p.push(buf.subarray(i, i + chunkSize));
        p.end();
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (err) {
        assert.ok(err instanceof CaptureFileError, `iteration ${iter}: ${String(err)}`);
        assert.ok(
          err.message.startsWith('fuzz: ') && err.message.includes(`at byte offset ${err.offset}`),
          err.message,
        );
        assert.ok(err.offset >= 0 && err.offset <= buf.length, `offset ${err.offset} within ${buf.length}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    }
    // The mutations reach the main failure kinds (and many files still parse).
    for (const c of ['ok', 'TRUNCATED', 'BAD_BLOCK_LENGTH', 'BAD_MAGIC', 'CAPLEN_EXCEEDS'])
      assert.ok((codes.get(c) ?? 0) > 0, `${c}: ${JSON.stringify([...codes])}`);
  });
});

describe('a file cut short, read with onTruncated (what a killed tcpdump leaves)', () => {
  test('every cut after a whole packet: the packets before it, the hook told once of the cut record; before the first packet: refused', async () => {
    await withTmpDir(async (dir) => {
      const { bytes, recordOffsets } = pcap;
      for (let len = 0; len < bytes.length; len++) {
        const path = join(dir, `cut${len}.pcap`);
        await writeFile(path, bytes.subarray(0, len));
        const seen: CaptureFileError[] = [];
        const got: PacketFields[] = [];
        const read = async (): Promise<void> => {
          for await (const b of readCaptureFile(path, { onTruncated: (e) => seen.push(e) }))
            got.push(...packetsOf([b]));
        };
        const whole = recordOffsets.filter(
          (off, i) => (recordOffsets[i + 1] ?? bytes.length) <= len && off < len,
        ).length;
        if (len < 24 || (whole === 0 && len > 24)) {
          // Cut in the file header, or before the first whole packet: nothing to replay, refused.
          await assert.rejects(
            read(),
            (e: unknown) => e instanceof CaptureFileError && e.code === 'TRUNCATED',
            `cut at ${len}`,
          );
          assert.equal(seen.length, 0);
          continue;
        }
        await read();
        assert.equal(got.length, whole, `cut at ${len}`);
        const cutRecord = [...recordOffsets].reverse().find((off) => off <= len);
        if (recordOffsets.includes(len) || len === 24) {
          assert.equal(seen.length, 0, `cut at ${len}: on a record boundary, nothing is cut`);
        } else {
          assert.equal(seen.length, 1, `cut at ${len}`);
          assert.equal(seen[0]?.code, 'TRUNCATED');
          assert.equal(seen[0]?.offset, cutRecord, `cut at ${len}: the offset of the record cut`);
        }
      }
    });
  });
});
