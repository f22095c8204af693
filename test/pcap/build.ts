// Test-only, independent byte builders for pcap and pcapng files in either byte order. They share no
// code with src/pcap so the reader and the writers are checked against a second implementation.

export type Endian = 'LE' | 'BE';

export function u16(v: number, e: Endian): Buffer {
  const b = Buffer.alloc(2);
  if (e === 'LE') b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

export function u32(v: number, e: Endian): Buffer {
  const b = Buffer.alloc(4);
  if (e === 'LE') b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}

export function i64(v: bigint, e: Endian): Buffer {
  const b = Buffer.alloc(8);
  if (e === 'LE') b.writeBigInt64LE(v);
  else b.writeBigInt64BE(v);
  return b;
}

function padTo4(b: Buffer): Buffer {
  const extra = (4 - (b.length % 4)) % 4;
  return extra === 0 ? b : Buffer.concat([b, Buffer.alloc(extra)]);
}

/** Deterministic payload bytes so every packet differs. */
export function payload(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

// ---------------------------------------------------------------- classic pcap

export interface PcapRecordSpec {
  sec: number;
  frac: number;
  data: Buffer;
  origLen?: number;
  /** Stored caplen, when a test wants it to disagree with data.length. */
  caplen?: number;
}

export interface PcapSpec {
  endian: Endian;
  nano: boolean;
  /** The whole 32-bit link-type field (link type plus FCS bits). */
  linkTypeField: number;
  snaplen?: number;
  versionMajor?: number;
  versionMinor?: number;
  records: PcapRecordSpec[];
}

/** Builds a pcap file; also returns the file offset where each record starts. */
export function buildPcap(spec: PcapSpec): { bytes: Buffer; recordOffsets: number[] } {
  const e = spec.endian;
  const parts: Buffer[] = [
    u32(spec.nano ? 0xa1b23c4d : 0xa1b2c3d4, e),
    u16(spec.versionMajor ?? 2, e),
    u16(spec.versionMinor ?? 4, e),
    u32(0, e),
    u32(0, e),
    u32(spec.snaplen ?? 65535, e),
    u32(spec.linkTypeField, e),
  ];
  let off = 24;
  const recordOffsets: number[] = [];
  for (const r of spec.records) {
    recordOffsets.push(off);
    parts.push(
      u32(r.sec, e),
      u32(r.frac, e),
      u32(r.caplen ?? r.data.length, e),
      u32(r.origLen ?? r.data.length, e),
      r.data,
    );
    off += 16 + r.data.length;
  }
  return { bytes: Buffer.concat(parts), recordOffsets };
}

// ---------------------------------------------------------------- pcapng

export type OptionSpec = [code: number, value: Buffer];

export function options(list: OptionSpec[], e: Endian, endOfOpt = true): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const [code, v] of list) parts.push(u16(code, e), u16(v.length, e), padTo4(v));
  if (endOfOpt) parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** A block: type, total length, body (padded), total length. */
export function block(type: number, body: Buffer, e: Endian): Buffer {
  const b = padTo4(body);
  const len = 12 + b.length;
  return Buffer.concat([u32(type, e), u32(len, e), b, u32(len, e)]);
}

export function shb(
  e: Endian,
  opts: OptionSpec[] = [],
  version: [number, number] = [1, 0],
  sectionLength = -1n,
): Buffer {
  // The byte-order magic is written in the section's own order.
  return block(
    0x0a0d0d0a,
    Buffer.concat([
      u32(0x1a2b3c4d, e),
      u16(version[0], e),
      u16(version[1], e),
      i64(sectionLength, e),
      options(opts, e),
    ]),
    e,
  );
}

export function idb(e: Endian, linkType: number, snaplen: number, opts: OptionSpec[] = []): Buffer {
  return block(1, Buffer.concat([u16(linkType, e), u16(0, e), u32(snaplen, e), options(opts, e)]), e);
}

export function epb(
  e: Endian,
  ifid: number,
  ts: bigint,
  data: Buffer,
  origLen = data.length,
  opts: OptionSpec[] = [],
  caplen = data.length,
): Buffer {
  const high = Number(ts >> 32n);
  const low = Number(ts & 0xffffffffn);
  return block(
    6,
    Buffer.concat([
      u32(ifid, e),
      u32(high, e),
      u32(low, e),
      u32(caplen, e),
      u32(origLen, e),
      padTo4(data),
      options(opts, e),
    ]),
    e,
  );
}

export function spb(e: Endian, origLen: number, data: Buffer): Buffer {
  return block(3, Buffer.concat([u32(origLen, e), padTo4(data)]), e);
}

/** Obsolete Packet Block (type 2). */
export function pb(
  e: Endian,
  ifid: number,
  ts: bigint,
  data: Buffer,
  origLen = data.length,
  opts: OptionSpec[] = [],
): Buffer {
  const high = Number(ts >> 32n);
  const low = Number(ts & 0xffffffffn);
  return block(
    2,
    Buffer.concat([
      u16(ifid, e),
      u16(0, e),
      u32(high, e),
      u32(low, e),
      u32(data.length, e),
      u32(origLen, e),
      padTo4(data),
      options(opts, e),
    ]),
    e,
  );
}

export const str = (s: string): Buffer => Buffer.from(s, 'utf8');
export const byte = (v: number): Buffer => Buffer.from([v]);

/** Offsets at which each block of a concatenation starts. */
export function offsetsOf(blocks: Buffer[]): number[] {
  const out: number[] = [];
  let off = 0;
  for (const b of blocks) {
    out.push(off);
    off += b.length;
  }
  return out;
}
