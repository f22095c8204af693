// Textual <-> binary conversion of IPv4, IPv6 and MAC addresses (parse throws PacketError
// 'BAD_ADDRESS'; format follows inet_ntop / RFC 5952: lower-case, longest zero run compressed).

import { PacketError } from './errors.js';

function badAddress(text: string, what: string): PacketError {
  return new PacketError('BAD_ADDRESS', -1, `not an ${what} address: ${JSON.stringify(text)}`);
}

/** Parses dotted-quad IPv4 text to an unsigned 32-bit number. */
export function parseIpv4Address(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + (c - 0x30);
      digits++;
      if (digits > 3 || part > 255) throw badAddress(text, 'IPv4');
    } else if (c === 0x2e) {
      if (digits === 0 || parts === 4) throw badAddress(text, 'IPv4');
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      throw badAddress(text, 'IPv4');
    }
  }
  if (parts !== 4) throw badAddress(text, 'IPv4');
  return value;
}

/** Writes an IPv4 address given as text or uint32 at `off` (4 bytes). */
export function writeIpv4(address: string | number, buf: Uint8Array, off: number): void {
  const v = typeof address === 'number' ? address : parseIpv4Address(address);
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** Reads 4 bytes at `off` as an unsigned 32-bit number. */
export function readIpv4(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

/** Most IPv4 texts kept by formatIpv4's intern table before it starts afresh. */
const IPV4_TEXT_CACHE_LIMIT = 16384;
/**
 * Interned texts keyed by the address's low 30 bits (a small integer: a full 32-bit key above 2^30
 * would be boxed by V8 on every lookup), each with its whole address to tell apart the four
 * addresses that share a key.
 */
const ipv4Texts = new Map<number, { readonly address: number; readonly text: string }>();

/**
 * Formats 4 bytes at `off` as dotted-quad text. The texts are interned (a bounded table keyed by the
 * address as a number): the capture and the channel format the same few client and target addresses
 * for every packet, and a table hit allocates nothing.
 */
export function formatIpv4(buf: Uint8Array, off: number): string {
  const address = readIpv4(buf, off);
  const key = address & 0x3fffffff;
  const hit = ipv4Texts.get(key);
  if (hit !== undefined && hit.address === address) return hit.text;
  if (ipv4Texts.size >= IPV4_TEXT_CACHE_LIMIT) ipv4Texts.clear();
  const text = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  ipv4Texts.set(key, { address, text });
  return text;
}

/** Formats an unsigned 32-bit IPv4 address as dotted-quad text. */
export function ipv4ToString(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** Parses IPv6 text (with `::` compression and an optional dotted IPv4 tail) into 16 bytes at `off`. */
export function writeIpv6(text: string, buf: Uint8Array, off: number): void {
  const words: number[] = [];
  let gap = -1;
  let i = 0;
  const n = text.length;
  if (n < 2) throw badAddress(text, 'IPv6');
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
  } else if (text.charCodeAt(0) === 0x3a) {
    throw badAddress(text, 'IPv6');
  }
  while (i < n) {
    // One group: hex digits, or a dotted IPv4 tail.
    let j = i;
    let v = 0;
    while (j < n && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      v = v * 16 + h;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 0x2e) {
      if (words.length > 6) throw badAddress(text, 'IPv6');
      const v4 = parseIpv4Address(text.slice(i));
      words.push(v4 >>> 16, v4 & 0xffff);
      i = n;
      break;
    }
    if (j === i || j - i > 4) throw badAddress(text, 'IPv6');
    words.push(v);
    i = j;
    if (i === n) break;
    if (text.charCodeAt(i) !== 0x3a) throw badAddress(text, 'IPv6');
    i++;
    if (i < n && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) throw badAddress(text, 'IPv6');
      gap = words.length;
      i++;
    } else if (i === n) {
      throw badAddress(text, 'IPv6');
    }
  }
  if (gap < 0 ? words.length !== 8 : words.length > 7) throw badAddress(text, 'IPv6');
  const zeros = 8 - words.length;
  let k = 0;
  for (let w = 0; w < 8; w++) {
    let value = 0;
    if (gap >= 0 && w >= gap && w < gap + zeros) value = 0;
    else value = words[k++]!;
    buf[off + 2 * w] = value >>> 8;
    buf[off + 2 * w + 1] = value & 0xff;
  }
}

/** Parses IPv6 text into a new 16-byte Buffer. */
export function parseIpv6Address(text: string): Buffer {
  const out = Buffer.alloc(16);
  writeIpv6(text, out, 0);
  return out;
}

/** Formats 16 bytes at `off` like inet_ntop: longest run (>= 2) of zero words compressed. */
export function formatIpv6(buf: Uint8Array, off: number): string {
  let bestStart = -1;
  let bestLen = 0;
  let runStart = -1;
  for (let w = 0; w <= 8; w++) {
    const zero = w < 8 && buf[off + 2 * w] === 0 && buf[off + 2 * w + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = w;
    } else if (runStart >= 0) {
      if (w - runStart > bestLen) {
        bestLen = w - runStart;
        bestStart = runStart;
      }
      runStart = -1;
    }
  }
  if (bestLen < 2) bestStart = -1;
  // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) forms, as inet_ntop prints them.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && buf[off + 10] === 0xff && buf[off + 11] === 0xff))) {
    return `::${bestLen === 5 ? 'ffff:' : ''}${formatIpv4(buf, off + 12)}`;
  }
  let s = '';
  for (let w = 0; w < 8; w++) {
    if (w === bestStart) {
      s += w === 0 ? '::' : ':';
      w += bestLen - 1;
      continue;
    }
    s += ((buf[off + 2 * w]! << 8) | buf[off + 2 * w + 1]!).toString(16);
    if (w < 7) s += ':';
  }
  return s;
}

/** Formats an address of 4 or 16 bytes. */
export function formatIp(buf: Uint8Array, off: number, length: 4 | 16): string {
  return length === 4 ? formatIpv4(buf, off) : formatIpv6(buf, off);
}

/** Writes an address of the given family (4 or 16 bytes) from text. */
export function writeIp(family: IpFamily, text: string, buf: Uint8Array, off: number): void {
  if (family === 4) writeIpv4(text, buf, off);
  else writeIpv6(text, buf, off);
}

const HEX = '0123456789abcdef';

/** Formats 6 bytes at `off` as aa:bb:cc:dd:ee:ff. */
export function formatMac(buf: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = buf[off + i]!;
    if (i > 0) s += ':';
    s += HEX[b >>> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** Parses aa:bb:cc:dd:ee:ff (or with '-') into 6 bytes at `off`. */
export function writeMac(text: string, buf: Uint8Array, off: number): void {
  if (text.length !== 17) throw badAddress(text, 'MAC');
  for (let i = 0; i < 6; i++) {
    const hi = hexValue(text.charCodeAt(3 * i));
    const lo = hexValue(text.charCodeAt(3 * i + 1));
    const sep = i < 5 ? text.charCodeAt(3 * i + 2) : 0x3a;
    if (hi < 0 || lo < 0 || (sep !== 0x3a && sep !== 0x2d)) throw badAddress(text, 'MAC');
    buf[off + i] = hi * 16 + lo;
  }
}

/** An IP address in canonical text (what options, logs and maps use) with its family. */
export type IpFamily = 4 | 6;

export interface IpAddress {
  /** Canonical text: dotted quad, or RFC 5952 IPv6 without brackets. */
  readonly text: string;
  readonly family: IpFamily;
}
