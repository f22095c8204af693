// IPv4 header: constants, an unchecked view with checksum-preserving setters, and the parsed
// form Ipv4Repr (options kept as raw bytes) with parse/emit.

import { formatIpv4, readIpv4, writeIpv4 } from './address.js';
import { checkField, checkRoom, checkSpan, put16, u16 } from './bytes.js';
import { ipv4HeaderChecksum, verifyIpv4HeaderChecksum, writeU16Adjusting, writeU32Adjusting } from './checksum.js';
import { PacketError } from './errors.js';
import { HeaderView } from './view.js';

export const IPV4_MIN_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;

export const IpProtocol = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_DSTOPTS: 60,
} as const;

export interface Ipv4Repr {
  /** Differentiated services code point (6 bits). */
  dscp: number;
  /** ECN bits (2 bits). */
  ecn: number;
  identification: number;
  /** The reserved ("evil") flag bit. */
  reservedFlag: boolean;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  /** Header checksum as read; emit recomputes it unless told to keep this value. */
  checksum?: number;
  src: string;
  dst: string;
  /** Raw option bytes (length a multiple of 4, at most 40). */
  options: Buffer;
  /** Bytes after the header (total length minus header length). */
  payloadLength: number;
}

export interface EmitOptions {
  /** Write the checksum stored in the repr instead of computing it (for byte-exact round trips). */
  keepChecksums?: boolean;
}

export function ipv4HeaderLength(repr: Ipv4Repr): number {
  return IPV4_MIN_HEADER_LENGTH + repr.options.length;
}

/**
 * Parses the IPv4 header at `off` given `len` available bytes. The whole datagram (total length)
 * must be present; bytes beyond the total length (link padding) are ignored.
 */
export function parseIpv4(buf: Buffer, off: number, len: number): Ipv4Repr {
  checkSpan(buf, off, len);
  if (len < IPV4_MIN_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'IPv4 header');
  const vihl = buf[off]!;
  if (vihl >>> 4 !== 4) throw new PacketError('BAD_VERSION', off, `version ${vihl >>> 4}`);
  const hlen = (vihl & 15) * 4;
  if (hlen < IPV4_MIN_HEADER_LENGTH) throw new PacketError('BAD_IHL', off, `IHL ${vihl & 15}`);
  if (hlen > len) throw new PacketError('TRUNCATED', off, 'IPv4 options');
  const total = u16(buf, off + 2);
  if (total < hlen) throw new PacketError('BAD_TOTAL_LENGTH', off + 2, `total length ${total} < header ${hlen}`);
  if (total > len) throw new PacketError('TRUNCATED', off + len, `total length ${total} > ${len} bytes present`);
  const tos = buf[off + 1]!;
  const frag = u16(buf, off + 6);
  return {
    dscp: tos >>> 2,
    ecn: tos & 3,
    identification: u16(buf, off + 4),
    reservedFlag: (frag & 0x8000) !== 0,
    dontFragment: (frag & 0x4000) !== 0,
    moreFragments: (frag & 0x2000) !== 0,
    fragmentOffset: (frag & 0x1fff) * 8,
    ttl: buf[off + 8]!,
    protocol: buf[off + 9]!,
    checksum: u16(buf, off + 10),
    src: formatIpv4(buf, off + 12),
    dst: formatIpv4(buf, off + 16),
    options: Buffer.from(buf.subarray(off + 20, off + hlen)),
    payloadLength: total - hlen,
  };
}

/** Writes the IPv4 header at `off` (checksum computed); returns the header length. */
export function emitIpv4(repr: Ipv4Repr, buf: Buffer, off: number, opts?: EmitOptions): number {
  const hlen = ipv4HeaderLength(repr);
  if (repr.options.length % 4 !== 0 || hlen > IPV4_MAX_HEADER_LENGTH) {
    throw new PacketError('BAD_OPTION', off + 20, `IPv4 options of ${repr.options.length} bytes`);
  }
  checkRoom(buf, off, hlen);
  checkField(repr.dscp, 6, 'dscp', off + 1);
  checkField(repr.ecn, 2, 'ecn', off + 1);
  checkField(hlen + repr.payloadLength, 16, 'totalLength', off + 2);
  checkField(repr.identification, 16, 'identification', off + 4);
  if (repr.fragmentOffset % 8 !== 0) throw new PacketError('BAD_FIELD', off + 6, 'fragment offset not a multiple of 8');
  checkField(repr.fragmentOffset / 8, 13, 'fragmentOffset', off + 6);
  checkField(repr.ttl, 8, 'ttl', off + 8);
  checkField(repr.protocol, 8, 'protocol', off + 9);
  buf[off] = 0x40 | (hlen >>> 2);
  buf[off + 1] = (repr.dscp << 2) | repr.ecn;
  put16(buf, off + 2, hlen + repr.payloadLength);
  put16(buf, off + 4, repr.identification);
  put16(
    buf,
    off + 6,
    (repr.reservedFlag ? 0x8000 : 0) |
      (repr.dontFragment ? 0x4000 : 0) |
      (repr.moreFragments ? 0x2000 : 0) |
      (repr.fragmentOffset / 8),
  );
  buf[off + 8] = repr.ttl;
  buf[off + 9] = repr.protocol;
  writeIpv4(repr.src, buf, off + 12);
  writeIpv4(repr.dst, buf, off + 16);
  buf.set(repr.options, off + 20);
  if (opts?.keepChecksums === true && repr.checksum !== undefined) {
    checkField(repr.checksum, 16, 'checksum', off + 10);
    put16(buf, off + 10, repr.checksum);
  } else {
    put16(buf, off + 10, ipv4HeaderChecksum(buf, off, hlen));
  }
  return hlen;
}

/** Unchecked accessors over a validated IPv4 header; setters keep the header checksum valid. */
export class Ipv4View extends HeaderView {
  get headerLength(): number {
    return (this.buf[this.offset]! & 15) * 4;
  }

  get dscp(): number {
    return this.buf[this.offset + 1]! >>> 2;
  }

  get ecn(): number {
    return this.buf[this.offset + 1]! & 3;
  }

  get totalLength(): number {
    return u16(this.buf, this.offset + 2);
  }

  get identification(): number {
    return u16(this.buf, this.offset + 4);
  }

  get dontFragment(): boolean {
    return (this.buf[this.offset + 6]! & 0x40) !== 0;
  }

  get moreFragments(): boolean {
    return (this.buf[this.offset + 6]! & 0x20) !== 0;
  }

  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (u16(this.buf, this.offset + 6) & 0x1fff) * 8;
  }

  get ttl(): number {
    return this.buf[this.offset + 8]!;
  }

  get protocol(): number {
    return this.buf[this.offset + 9]!;
  }

  get checksum(): number {
    return u16(this.buf, this.offset + 10);
  }

  get srcU32(): number {
    return readIpv4(this.buf, this.offset + 12);
  }

  get dstU32(): number {
    return readIpv4(this.buf, this.offset + 16);
  }

  get src(): string {
    return formatIpv4(this.buf, this.offset + 12);
  }

  get dst(): string {
    return formatIpv4(this.buf, this.offset + 16);
  }

  verifyChecksum(): boolean {
    return verifyIpv4HeaderChecksum(this.buf, this.offset, this.headerLength);
  }

  /** Recomputes and stores the header checksum. */
  fillChecksum(): void {
    put16(this.buf, this.offset + 10, ipv4HeaderChecksum(this.buf, this.offset, this.headerLength));
  }

  /** Sets the source address; also adjusts a transport checksum at `l4ChecksumOffset` (absolute) if given. */
  setSrc(address: number, l4ChecksumOffset = -1): void {
    writeU32Adjusting(this.buf, this.offset + 12, address, this.offset + 10, l4ChecksumOffset);
  }

  setDst(address: number, l4ChecksumOffset = -1): void {
    writeU32Adjusting(this.buf, this.offset + 16, address, this.offset + 10, l4ChecksumOffset);
  }

  setIdentification(id: number): void {
    writeU16Adjusting(this.buf, this.offset + 4, id, this.offset + 10);
  }

  setTtl(ttl: number): void {
    const word = (ttl << 8) | this.buf[this.offset + 9]!;
    writeU16Adjusting(this.buf, this.offset + 8, word, this.offset + 10);
  }
}
