// Turns a TcpSegment description into a finished IP packet (checksums filled in) for the raw
// sender. This runs for every packet tcpcopy sends, so the common case — the options the engine
// itself emits (nop, mss, wscale, sackPermitted, timestamps) — is written straight into one buffer
// with the addresses from a small cache; anything else goes through the general buildTcpPacket.
// Both produce the same bytes (test/packet/segment-writer.test.ts).

import { writeIpv4, writeIpv6 } from './address.js';
import { buildTcpPacket } from './build.js';
import { finishChecksum, onesSum } from './checksum.js';
import type { TcpOption } from './tcp-options.js';

/** A TCP segment's header values with its addresses as text (no options, no payload). */
export interface TcpSegmentFields {
  readonly version: 4 | 6;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** TcpFlags bits. */
  readonly flags: number;
  readonly window: number;
}

/** A TCP segment to write as one IPv4/IPv6 packet. */
export interface TcpSegment extends TcpSegmentFields {
  readonly options: readonly TcpOption[];
  readonly payload: Buffer;
}

const ADDRESS_CACHE_LIMIT = 8192;

/** An address's bytes and their one's-complement sum (its share of the pseudo-header sum). */
interface AddressBytes {
  readonly bytes: Uint8Array;
  readonly sum: number;
}

const v4Cache = new Map<string, AddressBytes>();
const v6Cache = new Map<string, AddressBytes>();

/** The address bytes of `text` (cached; the cache is cleared when it reaches its bound). */
function addressBytes(version: 4 | 6, text: string): AddressBytes {
  const cache = version === 4 ? v4Cache : v6Cache;
  let a = cache.get(text);
  if (a === undefined) {
    if (cache.size >= ADDRESS_CACHE_LIMIT) cache.clear();
    const b = Buffer.alloc(version === 4 ? 4 : 16);
    if (version === 4) writeIpv4(text, b, 0);
    else writeIpv6(text, b, 0);
    a = { bytes: b, sum: onesSum(b, 0, b.length) };
    cache.set(text, a);
  }
  return a;
}

/** Bytes of the options when every one is of a kind the fast path writes, else −1. */
function fastOptionsLength(seg: TcpSegment): number {
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

function isU16(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

function fieldsFit(seg: TcpSegment, ipId: number): boolean {
  return isU16(seg.srcPort) && isU16(seg.dstPort) && isU32(seg.seq) && isU32(seg.ack) && isU16(seg.window) && isU16(ipId) &&
    Number.isInteger(seg.flags) && seg.flags >= 0 && seg.flags <= 0x1ff;
}

/** Bytes written big-endian by hand: Buffer#writeUInt*BE checks its arguments on every call. */
function put16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v;
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

export function emitSegment(seg: TcpSegment, ipId = 0): Buffer {
  const optLen = fastOptionsLength(seg);
  if (!fastPathFits(seg, ipId, optLen)) return slowEmit(seg, ipId);
  const out = Buffer.allocUnsafe(fastSegmentLength(seg, optLen));
  writeFast(seg, ipId, optLen, out, 0);
  return out;
}

/** The fast path writes `seg` (option bytes `optLen` from fastOptionsLength): else the general builder. */
function fastPathFits(seg: TcpSegment, ipId: number, optLen: number): boolean {
  return optLen >= 0 && optLen <= 40 && fieldsFit(seg, ipId);
}

/** Bytes the fast path makes of `seg` with `optLen` option bytes. */
function fastSegmentLength(seg: TcpSegment, optLen: number): number {
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
  add(seg: TcpSegment, ipId = 0): void {
    const optLen = fastOptionsLength(seg);
    if (fastPathFits(seg, ipId, optLen)) {
      const len = fastSegmentLength(seg, optLen);
      this.reserve(len);
      writeFast(seg, ipId, optLen, this.buf, this.used);
      this.used += len;
      this.lens[this.n++] = len;
      return;
    }
    const slow = slowEmit(seg, ipId);
    this.reserve(slow.length);
    this.buf.set(slow, this.used);
    this.used += slow.length;
    this.lens[this.n++] = slow.length;
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

/** Writes the fast-path packet of `seg` at `at` (fastPathFits(seg, ipId, optLen) checked by the caller). */
function writeFast(seg: TcpSegment, ipId: number, optLen: number, out: Buffer, at: number): void {
  const v4 = seg.version === 4;
  const src = addressBytes(seg.version, seg.src);
  const dst = addressBytes(seg.version, seg.dst);
  const ipLen = v4 ? 20 : 40;
  const hlen = 20 + ((optLen + 3) & ~3);
  const payload = seg.payload;
  const segLen = hlen + payload.length;
  const b = at;
  if (v4) {
    out[b] = 0x45;
    out[b + 1] = 0;
    put16(out, b + 2, ipLen + segLen);
    put16(out, b + 4, ipId);
    out[b + 6] = 0x40; // DF
    out[b + 7] = 0;
    out[b + 8] = 64;
    out[b + 9] = 6;
    out[b + 10] = 0;
    out[b + 11] = 0;
    const s4 = src.bytes;
    const d4 = dst.bytes;
    out[b + 12] = s4[0]!;
    out[b + 13] = s4[1]!;
    out[b + 14] = s4[2]!;
    out[b + 15] = s4[3]!;
    out[b + 16] = d4[0]!;
    out[b + 17] = d4[1]!;
    out[b + 18] = d4[2]!;
    out[b + 19] = d4[3]!;
    put16(out, b + 10, finishChecksum(onesSum(out, b, 20)));
  } else {
    put32(out, b, 0x6000_0000);
    put16(out, b + 4, segLen);
    out[b + 6] = 6;
    out[b + 7] = 64;
    out.set(src.bytes, b + 8);
    out.set(dst.bytes, b + 24);
  }
  const t = b + ipLen;
  put16(out, t, seg.srcPort);
  put16(out, t + 2, seg.dstPort);
  put32(out, t + 4, seg.seq);
  put32(out, t + 8, seg.ack);
  out[t + 12] = ((hlen >>> 2) << 4) | (seg.flags >>> 8);
  out[t + 13] = seg.flags & 0xff;
  put16(out, t + 14, seg.window);
  put32(out, t + 16, 0); // checksum and urgent pointer
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
        put16(out, p + 2, o.value);
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
        put32(out, p + 2, o.tsval);
        put32(out, p + 6, o.tsecr);
        p += 10;
        break;
      default:
        break;
    }
  }
  while (p < t + hlen) out[p++] = 0;
  // TypedArray#set, not Buffer#copy: copy validates its arguments and makes a view per call.
  if (payload.length > 0) out.set(payload, p);
  const pseudo = src.sum + dst.sum + 6 + segLen;
  put16(out, t + 16, finishChecksum(onesSum(out, t, segLen, pseudo)));
}

function slowEmit(seg: TcpSegment, ipId: number): Buffer {
  return buildTcpPacket({
    version: seg.version, src: seg.src, dst: seg.dst, srcPort: seg.srcPort, dstPort: seg.dstPort,
    seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, options: [...seg.options],
    payload: seg.payload, id: ipId,
  });
}
