// Turns an OutgoingSegment description into a finished IP packet (checksums filled in) for the raw
// sender. This runs for every packet tcpcopy sends, so the common case — the options the engine
// itself emits (nop, mss, wscale, sackPermitted, timestamps) — is written straight into one buffer
// with the addresses from a small cache; anything else goes through the general buildTcpPacket.
// Both produce the same bytes (test/session/emit.test.ts).

import { buildTcpPacket, finishChecksum, onesSum, writeIpv4, writeIpv6 } from '../packet/index.js';
import type { OutgoingSegment } from './types.js';

const ADDRESS_CACHE_LIMIT = 8192;
const v4Cache = new Map<string, Buffer>();
const v6Cache = new Map<string, Buffer>();

/** The address bytes of `text` (cached; the cache is cleared when it reaches its bound). */
function addressBytes(version: 4 | 6, text: string): Buffer {
  const cache = version === 4 ? v4Cache : v6Cache;
  let b = cache.get(text);
  if (b === undefined) {
    if (cache.size >= ADDRESS_CACHE_LIMIT) cache.clear();
    b = Buffer.alloc(version === 4 ? 4 : 16);
    if (version === 4) writeIpv4(text, b, 0);
    else writeIpv6(text, b, 0);
    cache.set(text, b);
  }
  return b;
}

/** Bytes of the options when every one is of a kind the fast path writes, else −1. */
function fastOptionsLength(seg: OutgoingSegment): number {
  let n = 0;
  const opts = seg.options;
  // Index loops: for-of over a frozen array (the engine's shared option lists) allocates an iterator.
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    switch (o.kind) {
      case 'nop': n += 1; break;
      case 'mss': n += 4; break;
      case 'wscale': n += 3; break;
      case 'sackPermitted': n += 2; break;
      case 'timestamps': n += 10; break;
      default: return -1;
    }
  }
  return n;
}

function fieldsFit(seg: OutgoingSegment, ipId: number): boolean {
  const u16 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffff;
  const u32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  return u16(seg.srcPort) && u16(seg.dstPort) && u32(seg.seq) && u32(seg.ack) && u16(seg.window) && u16(ipId) &&
    Number.isInteger(seg.flags) && seg.flags >= 0 && seg.flags <= 0x1ff;
}

export function emitSegment(seg: OutgoingSegment, ipId = 0): Buffer {
  const len = fastSegmentLength(seg, ipId);
  if (len < 0) return slowEmit(seg, ipId);
  const out = Buffer.allocUnsafe(len);
  writeFast(seg, ipId, out, 0);
  return out;
}

/**
 * Bytes `emitSegment` makes of `seg` on its fast path, or −1 when the segment needs the general
 * builder (options of other kinds, fields out of range).
 */
function fastSegmentLength(seg: OutgoingSegment, ipId: number): number {
  const optLen = fastOptionsLength(seg);
  if (optLen < 0 || optLen > 40 || !fieldsFit(seg, ipId)) return -1;
  return (seg.version === 4 ? 20 : 40) + 20 + ((optLen + 3) & ~3) + seg.payload.length;
}

/**
 * Packets written back to back into one growing buffer (a turn's packets for one sendmmsg): no
 * Buffer per packet. `reset()` reuses the space; what was written before is then overwritten.
 */
export class SegmentArena {
  private buf: Buffer;
  private lens: Uint32Array;
  private used = 0;
  private n = 0;

  constructor(initialBytes = 64 * 1024, initialPackets = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.lens = new Uint32Array(initialPackets);
  }

  /** Packets written since the last reset. */
  get count(): number {
    return this.n;
  }

  /** The bytes of the packets, back to back (a view valid until the next add or reset). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  /** The packets' lengths (entries [0, count) are in use). */
  get lengths(): Uint32Array {
    return this.lens;
  }

  /** Writes `seg` as the next packet (the same bytes as emitSegment(seg, ipId)). */
  add(seg: OutgoingSegment, ipId = 0): void {
    let len = fastSegmentLength(seg, ipId);
    const slow = len < 0 ? slowEmit(seg, ipId) : null;
    if (slow !== null) len = slow.length;
    this.reserve(len);
    if (slow !== null) slow.copy(this.buf, this.used);
    else writeFast(seg, ipId, this.buf, this.used);
    this.used += len;
    this.lens[this.n++] = len;
  }

  /** Each packet as a view into the arena (for senders that take one buffer per packet). */
  packets(): Buffer[] {
    const out: Buffer[] = new Array<Buffer>(this.n);
    let off = 0;
    for (let i = 0; i < this.n; i++) {
      const len = this.lens[i]!;
      out[i] = this.buf.subarray(off, off + len);
      off += len;
    }
    return out;
  }

  reset(): void {
    this.used = 0;
    this.n = 0;
  }

  private reserve(len: number): void {
    if (this.used + len > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.used + len) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.used);
      this.buf = next;
    }
    if (this.n === this.lens.length) {
      const next = new Uint32Array(this.lens.length * 2);
      next.set(this.lens);
      this.lens = next;
    }
  }
}

/** Writes the fast-path packet of `seg` at `at` (fastSegmentLength(seg) ≥ 0 checked by the caller). */
function writeFast(seg: OutgoingSegment, ipId: number, buf: Buffer, at: number): void {
  const optLen = fastOptionsLength(seg);
  const v4 = seg.version === 4;
  const src = addressBytes(seg.version, seg.src);
  const dst = addressBytes(seg.version, seg.dst);
  const ipLen = v4 ? 20 : 40;
  const hlen = 20 + ((optLen + 3) & ~3);
  const segLen = hlen + seg.payload.length;
  const out = buf;
  const b = at;
  if (v4) {
    out[b] = 0x45;
    out[b + 1] = 0;
    out.writeUInt16BE(ipLen + segLen, b + 2);
    out.writeUInt16BE(ipId, b + 4);
    out[b + 6] = 0x40; // DF
    out[b + 7] = 0;
    out[b + 8] = 64;
    out[b + 9] = 6;
    out[b + 10] = 0;
    out[b + 11] = 0;
    src.copy(out, b + 12);
    dst.copy(out, b + 16);
    out.writeUInt16BE(finishChecksum(onesSum(out, b, 20)), b + 10);
  } else {
    out.writeUInt32BE(0x6000_0000, b);
    out.writeUInt16BE(segLen, b + 4);
    out[b + 6] = 6;
    out[b + 7] = 64;
    src.copy(out, b + 8);
    dst.copy(out, b + 24);
  }
  const t = b + ipLen;
  out.writeUInt16BE(seg.srcPort, t);
  out.writeUInt16BE(seg.dstPort, t + 2);
  out.writeUInt32BE(seg.seq, t + 4);
  out.writeUInt32BE(seg.ack, t + 8);
  out[t + 12] = ((hlen >>> 2) << 4) | (seg.flags >>> 8);
  out[t + 13] = seg.flags & 0xff;
  out.writeUInt16BE(seg.window, t + 14);
  out.writeUInt32BE(0, t + 16); // checksum and urgent pointer
  let p = t + 20;
  const opts = seg.options;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    switch (o.kind) {
      case 'nop':
        out[p++] = 1;
        break;
      case 'mss':
        out[p] = 2;
        out[p + 1] = 4;
        out.writeUInt16BE(o.value, p + 2);
        p += 4;
        break;
      case 'wscale':
        out[p] = 3;
        out[p + 1] = 3;
        out[p + 2] = o.shift;
        p += 3;
        break;
      case 'sackPermitted':
        out[p] = 4;
        out[p + 1] = 2;
        p += 2;
        break;
      case 'timestamps':
        out[p] = 8;
        out[p + 1] = 10;
        out.writeUInt32BE(o.tsval, p + 2);
        out.writeUInt32BE(o.tsecr, p + 6);
        p += 10;
        break;
      default:
        break;
    }
  }
  while (p < t + hlen) out[p++] = 0;
  seg.payload.copy(out, p);
  const pseudo = onesSum(src, 0, src.length) + onesSum(dst, 0, dst.length) + 6 + segLen;
  out.writeUInt16BE(finishChecksum(onesSum(out, t, segLen, pseudo)), t + 16);
}

function slowEmit(seg: OutgoingSegment, ipId: number): Buffer {
  return buildTcpPacket({
    version: seg.version, src: seg.src, dst: seg.dst, srcPort: seg.srcPort, dstPort: seg.dstPort,
    seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, options: [...seg.options],
    payload: seg.payload, id: ipId,
  });
}
