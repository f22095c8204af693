// IPv6 header and extension-header chain (hop-by-hop 0, routing 43, fragment 44, destination
// options 60, AH 51, and the generic-format 135/139/140): an unchecked view, the walk that finds
// the upper-layer protocol, and the parsed form Ipv6Repr with parse/emit.

import { formatIpv6, writeIpv6 } from './address.js';
import { checkField, checkRoom, checkSpan, put16, u16, u32 } from './bytes.js';
import { PacketError } from './errors.js';
import { HeaderView } from './view.js';

export const IPV6_HEADER_LENGTH = 40;
/** Most extension headers the walkers follow before reporting BAD_EXT_HEADER. */
export const MAX_IPV6_EXTENSION_HEADERS = 16;

/** Extension-header kinds by how their length is encoded. */
export function ipv6ExtensionKind(type: number): 'generic' | 'fragment' | 'ah' | null {
  switch (type) {
    case 0:
    case 43:
    case 60:
    case 135:
    case 139:
    case 140:
      return 'generic';
    case 44:
      return 'fragment';
    case 51:
      return 'ah';
    default:
      return null;
  }
}

/**
 * Length in bytes of the extension header of `type` whose second byte is `lenByte`
 * (0 when `type` is not an extension header this module walks).
 */
export function ipv6ExtensionLength(type: number, lenByte: number): number {
  switch (ipv6ExtensionKind(type)) {
    case 'generic':
      return (lenByte + 1) * 8;
    case 'fragment':
      return 8;
    case 'ah':
      return (lenByte + 2) * 4;
    default:
      return 0;
  }
}

export interface Ipv6ExtensionHeader {
  /** Header type (the value the previous header's next-header field names). */
  type: number;
  /** The header's bytes after its next-header byte (so starting with the length/reserved byte). */
  body: Buffer;
}

export interface Ipv6FragmentInfo {
  /** Fragment offset in bytes. */
  offset: number;
  moreFragments: boolean;
  identification: number;
}

export interface Ipv6Repr {
  trafficClass: number;
  flowLabel: number;
  hopLimit: number;
  src: string;
  dst: string;
  /** Extension headers in wire order. */
  extensionHeaders: Ipv6ExtensionHeader[];
  /** Upper-layer protocol after the extension headers (6 = TCP). */
  nextHeader: number;
  /** Bytes after the extension headers (the IPv6 payload length minus the extension headers). */
  payloadLength: number;
  /** Set when a fragment header with a non-zero offset or the M flag is present (read-only; emit ignores it). */
  fragment: Ipv6FragmentInfo | null;
}

export function ipv6HeaderLength(repr: Ipv6Repr): number {
  let n = IPV6_HEADER_LENGTH;
  for (const h of repr.extensionHeaders) n += 1 + h.body.length;
  return n;
}

/**
 * Parses the IPv6 header and its extension-header chain at `off` given `len` available bytes.
 * The walk stops at the first header that is not an extension header, and after a fragment
 * header that marks a real fragment (then `nextHeader` is the fragment header's next header and
 * the rest is payload). The whole packet (payload length) must be present.
 */
export function parseIpv6(buf: Buffer, off: number, len: number): Ipv6Repr {
  checkSpan(buf, off, len);
  if (len < IPV6_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'IPv6 header');
  const first = u32(buf, off);
  if (first >>> 28 !== 6) throw new PacketError('BAD_VERSION', off, `version ${first >>> 28}`);
  const plen = u16(buf, off + 4);
  if (IPV6_HEADER_LENGTH + plen > len) {
    throw new PacketError('TRUNCATED', off + len, `payload length ${plen} > ${len - IPV6_HEADER_LENGTH} bytes present`);
  }
  const end = off + IPV6_HEADER_LENGTH + plen;
  let next = buf[off + 6]!;
  let p = off + IPV6_HEADER_LENGTH;
  const ext: Ipv6ExtensionHeader[] = [];
  let fragment: Ipv6FragmentInfo | null = null;
  while (fragment === null && ipv6ExtensionKind(next) !== null) {
    if (ext.length === MAX_IPV6_EXTENSION_HEADERS)
      throw new PacketError('BAD_EXT_HEADER', p, 'too many extension headers');
    if (p + 2 > end) throw new PacketError('BAD_EXT_HEADER', p, 'extension header beyond payload length');
    const hlen = ipv6ExtensionLength(next, buf[p + 1]!);
    if (p + hlen > end)
      throw new PacketError('BAD_EXT_HEADER', p, `extension header of ${hlen} bytes beyond payload length`);
    if (next === 44) {
      const fo = u16(buf, p + 2);
      if ((fo & 0xfff9) !== 0)
        fragment = { offset: fo & 0xfff8, moreFragments: (fo & 1) !== 0, identification: u32(buf, p + 4) };
    }
    ext.push({ type: next, body: Buffer.from(buf.subarray(p + 1, p + hlen)) });
    next = buf[p]!;
    p += hlen;
  }
  return {
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    hopLimit: buf[off + 7]!,
    src: formatIpv6(buf, off + 8),
    dst: formatIpv6(buf, off + 24),
    extensionHeaders: ext,
    nextHeader: next,
    payloadLength: end - p,
    fragment,
  };
}

/** Writes the IPv6 header and extension headers at `off`; returns the bytes written. */
export function emitIpv6(repr: Ipv6Repr, buf: Buffer, off: number): number {
  const hlen = ipv6HeaderLength(repr);
  checkRoom(buf, off, hlen);
  checkField(repr.trafficClass, 8, 'trafficClass', off);
  checkField(repr.flowLabel, 20, 'flowLabel', off + 1);
  checkField(hlen - IPV6_HEADER_LENGTH + repr.payloadLength, 16, 'payloadLength', off + 4);
  checkField(repr.hopLimit, 8, 'hopLimit', off + 7);
  checkField(repr.nextHeader, 8, 'nextHeader', off + 6);
  const first = ((6 << 28) | (repr.trafficClass << 20) | repr.flowLabel) >>> 0;
  buf[off] = first >>> 24;
  buf[off + 1] = (first >>> 16) & 0xff;
  buf[off + 2] = (first >>> 8) & 0xff;
  buf[off + 3] = first & 0xff;
  put16(buf, off + 4, hlen - IPV6_HEADER_LENGTH + repr.payloadLength);
  const firstExt = repr.extensionHeaders[0];
  buf[off + 6] = firstExt ? firstExt.type : repr.nextHeader;
  buf[off + 7] = repr.hopLimit;
  writeIpv6(repr.src, buf, off + 8);
  writeIpv6(repr.dst, buf, off + 24);
  let p = off + IPV6_HEADER_LENGTH;
  const hs = repr.extensionHeaders;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    const size = 1 + h.body.length;
    if (ipv6ExtensionKind(h.type) === null || h.body.length < 1 || ipv6ExtensionLength(h.type, h.body[0]!) !== size) {
      throw new PacketError(
        'BAD_EXT_HEADER',
        p,
        `extension header ${h.type} with a ${size}-byte body that does not match its length field`,
      );
    }
    const following = hs[i + 1];
    buf[p] = following ? following.type : repr.nextHeader;
    buf.set(h.body, p + 1);
    p += size;
  }
  return hlen;
}

/** Unchecked accessors over a validated IPv6 fixed header. */
export class Ipv6View extends HeaderView {
  get trafficClass(): number {
    return (u16(this.buf, this.offset) >>> 4) & 0xff;
  }

  get flowLabel(): number {
    return u32(this.buf, this.offset) & 0xfffff;
  }

  get payloadLength(): number {
    return u16(this.buf, this.offset + 4);
  }

  /** Next-header field of the fixed header (the first extension header's type, if any). */
  get nextHeader(): number {
    return this.buf[this.offset + 6]!;
  }

  get hopLimit(): number {
    return this.buf[this.offset + 7]!;
  }

  get src(): string {
    return formatIpv6(this.buf, this.offset + 8);
  }

  get dst(): string {
    return formatIpv6(this.buf, this.offset + 24);
  }
}
