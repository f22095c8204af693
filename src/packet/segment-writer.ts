// Turns a TcpSegment description into a finished IP packet (checksums filled in) for the raw
// sender. This runs for every packet tcpcopy sends, so the common case — the options the engine
// itself emits (nop, mss, wscale, sackPermitted, timestamps) — is written straight into one buffer
// with the addresses from the writer's small cache; anything else goes through the general
// buildTcpPacket. Both produce the same bytes (test/packet/segment-writer.test.ts).

import { writeIpv4, writeIpv6 } from './address.js';
import type { IpFamily } from './address.js';
import { buildTcpPacket } from './build.js';
import { put16, put32 } from './bytes.js';
import { finishChecksum, onesSum } from './checksum.js';
import { tcpOptionLength, writeTcpOption } from './tcp-options.js';
import type { TcpOption } from './tcp-options.js';

/** A TCP segment's header values with its addresses as text (no options, no payload). */
export interface TcpSegmentFields {
  readonly family: IpFamily;
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

/** Addresses kept per writer before its cache starts over. */
const ADDRESS_CACHE_LIMIT = 8192;

/** An address's bytes and their one's-complement sum (its share of the pseudo-header sum). */
interface AddressBytes {
  readonly bytes: Uint8Array;
  readonly sum: number;
}

/**
 * Writes segments as IP packets. Each writer caches the bytes of the addresses it has written
 * (bounded: cleared when full), so senders do not share state; keep one per sender.
 */
export class SegmentWriter {
  private readonly v4 = new Map<string, AddressBytes>();
  private readonly v6 = new Map<string, AddressBytes>();

  constructor(private readonly addressCacheLimit = ADDRESS_CACHE_LIMIT) {}

  /** Bytes `write` makes of `seg`, or -1 when `seg` needs the general builder (`emit` does both). */
  fastLength(seg: TcpSegment, ipId: number): number {
    const optLen = fastOptionsLength(seg);
    if (optLen < 0 || optLen > 40 || !fieldsFit(seg, ipId)) return -1;
    return (seg.family === 4 ? 20 : 40) + 20 + ((optLen + 3) & ~3) + seg.payload.length;
  }

  /** `seg` as a new packet buffer. */
  emit(seg: TcpSegment, ipId = 0): Buffer {
    const len = this.fastLength(seg, ipId);
    if (len < 0) return slowEmit(seg, ipId);
    const out = Buffer.allocUnsafe(len);
    this.write(seg, ipId, len, out, 0);
    return out;
  }

  /** Writes the `len` bytes (from fastLength, not -1) of `seg`'s packet at `at`. */
  write(seg: TcpSegment, ipId: number, len: number, out: Uint8Array, at: number): void {
    const v4 = seg.family === 4;
    const src = this.addressBytes(seg.family, seg.src);
    const dst = this.addressBytes(seg.family, seg.dst);
    const ipLen = v4 ? 20 : 40;
    const payload = seg.payload;
    const segLen = len - ipLen;
    const hlen = segLen - payload.length;
    const b = at;
    if (v4) {
      out[b] = 0x45;
      out[b + 1] = 0;
      put16(out, b + 2, len);
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
    // Index loop: for-of over a frozen array (the engine's shared option lists) allocates an iterator.
    for (let i = 0; i < opts.length; i++) p += writeTcpOption(opts[i]!, out, p);
    while (p < t + hlen) out[p++] = 0;
    // TypedArray#set, not Buffer#copy: copy validates its arguments and makes a view per call.
    if (payload.length > 0) out.set(payload, p);
    const pseudo = src.sum + dst.sum + 6 + segLen;
    put16(out, t + 16, finishChecksum(onesSum(out, t, segLen, pseudo)));
  }

  /** The address bytes of `text` (cached; the cache is cleared when it reaches its bound). */
  private addressBytes(family: IpFamily, text: string): AddressBytes {
    const cache = family === 4 ? this.v4 : this.v6;
    let a = cache.get(text);
    if (a === undefined) {
      if (cache.size >= this.addressCacheLimit) cache.clear();
      const b = Buffer.alloc(family === 4 ? 4 : 16);
      if (family === 4) writeIpv4(text, b, 0);
      else writeIpv6(text, b, 0);
      a = { bytes: b, sum: onesSum(b, 0, b.length) };
      cache.set(text, a);
    }
    return a;
  }
}

/** `seg` as a packet, from a writer of its own: for one-off packets (a sender keeps a writer). */
export function emitSegment(seg: TcpSegment, ipId = 0): Buffer {
  return new SegmentWriter().emit(seg, ipId);
}

/**
 * Bytes of the options when every one is of a kind the fast path writes, else −1. The others
 * (SACK blocks, unknown kinds, EOL padding) take the general builder, which checks their sizes.
 */
function fastOptionsLength(seg: TcpSegment): number {
  let n = 0;
  const opts = seg.options;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i]!;
    if (o.kind === 'sack' || o.kind === 'unknown' || o.kind === 'eol') return -1;
    n += tcpOptionLength(o);
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
  return (
    isU16(seg.srcPort) &&
    isU16(seg.dstPort) &&
    isU32(seg.seq) &&
    isU32(seg.ack) &&
    isU16(seg.window) &&
    isU16(ipId) &&
    Number.isInteger(seg.flags) &&
    seg.flags >= 0 &&
    seg.flags <= 0x1ff
  );
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

  constructor(
    initialBytes = 64 * 1024,
    initialPackets = 256,
    private readonly writer = new SegmentWriter(),
  ) {
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
    const len = this.writer.fastLength(seg, ipId);
    if (len >= 0) {
      this.reserve(len);
      this.writer.write(seg, ipId, len, this.buf, this.used);
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

function slowEmit(seg: TcpSegment, ipId: number): Buffer {
  return buildTcpPacket({
    family: seg.family,
    src: seg.src,
    dst: seg.dst,
    srcPort: seg.srcPort,
    dstPort: seg.dstPort,
    seq: seg.seq,
    ack: seg.ack,
    flags: seg.flags,
    window: seg.window,
    options: [...seg.options],
    payload: seg.payload,
    id: ipId,
  });
}
