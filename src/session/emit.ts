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
  for (const o of seg.options) {
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
  const optLen = fastOptionsLength(seg);
  if (optLen < 0 || optLen > 40 || !fieldsFit(seg, ipId)) return slowEmit(seg, ipId);
  const v4 = seg.version === 4;
  const src = addressBytes(seg.version, seg.src);
  const dst = addressBytes(seg.version, seg.dst);
  const ipLen = v4 ? 20 : 40;
  const hlen = 20 + ((optLen + 3) & ~3);
  const segLen = hlen + seg.payload.length;
  const out = Buffer.allocUnsafe(ipLen + segLen);
  if (v4) {
    out[0] = 0x45;
    out[1] = 0;
    out.writeUInt16BE(ipLen + segLen, 2);
    out.writeUInt16BE(ipId, 4);
    out[6] = 0x40; // DF
    out[7] = 0;
    out[8] = 64;
    out[9] = 6;
    out[10] = 0;
    out[11] = 0;
    src.copy(out, 12);
    dst.copy(out, 16);
    out.writeUInt16BE(finishChecksum(onesSum(out, 0, 20)), 10);
  } else {
    out.writeUInt32BE(0x6000_0000, 0);
    out.writeUInt16BE(segLen, 4);
    out[6] = 6;
    out[7] = 64;
    src.copy(out, 8);
    dst.copy(out, 24);
  }
  const t = ipLen;
  out.writeUInt16BE(seg.srcPort, t);
  out.writeUInt16BE(seg.dstPort, t + 2);
  out.writeUInt32BE(seg.seq, t + 4);
  out.writeUInt32BE(seg.ack, t + 8);
  out[t + 12] = ((hlen >>> 2) << 4) | (seg.flags >>> 8);
  out[t + 13] = seg.flags & 0xff;
  out.writeUInt16BE(seg.window, t + 14);
  out.writeUInt32BE(0, t + 16); // checksum and urgent pointer
  let p = t + 20;
  for (const o of seg.options) {
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
  return out;
}

function slowEmit(seg: OutgoingSegment, ipId: number): Buffer {
  return buildTcpPacket({
    version: seg.version, src: seg.src, dst: seg.dst, srcPort: seg.srcPort, dstPort: seg.dstPort,
    seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, options: [...seg.options],
    payload: seg.payload, id: ipId,
  });
}
