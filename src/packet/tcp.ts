// TCP header: flag constants, an unchecked view with checksum-preserving setters, and the parsed
// form TcpRepr (options as a TcpOption union, payload as a view) with parse/emit incl. checksum.

import { writeIp } from './address.js';
import type { IpFamily } from './address.js';
import { checkField, checkRoom, checkSpan, put16, put32, u16, u32 } from './bytes.js';
import { pseudoSumV4, pseudoSumV6, transportChecksum, writeU16Adjusting, writeU32Adjusting } from './checksum.js';
import { PacketError } from './errors.js';
import type { EmitOptions } from './ipv4.js';
import { emitTcpOptions, parseTcpOptions, tcpOptionsLength } from './tcp-options.js';
import type { TcpOption } from './tcp-options.js';
import { HeaderView } from './view.js';

export const TCP_MIN_HEADER_LENGTH = 20;
export const TCP_MAX_HEADER_LENGTH = 60;

/** The nine TCP flag bits as found in the 9 low bits of the data-offset/flags word. */
export const TcpFlags = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  /** ECN nonce (RFC 3540, historic; now AE in AccECN). */
  NS: 0x100,
} as const;

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x100, 'NS'],
  [0x080, 'CWR'],
  [0x040, 'ECE'],
  [0x020, 'URG'],
  [0x010, 'ACK'],
  [0x008, 'PSH'],
  [0x004, 'RST'],
  [0x002, 'SYN'],
  [0x001, 'FIN'],
];

/** "SYN|ACK"-style text for a flags value (for messages and logs). */
export function formatTcpFlags(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return names.length > 0 ? names.join('|') : 'none';
}

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** The nine flag bits (see TcpFlags). */
  flags: number;
  /** The three reserved bits between data offset and NS (0 unless the packet set them). */
  reserved?: number;
  window: number;
  urgentPointer?: number;
  /** Checksum as read; emit computes it unless told to keep this value. */
  checksum?: number;
  /** Options in wire order; emit pads with zero (EOL) bytes to a multiple of 4. */
  options: TcpOption[];
  /** Segment data. From parseTcp it is a view into the parsed buffer, not a copy. */
  payload: Buffer;
}

/** Addresses for the checksum pseudo-header (text, or the 4/16 raw bytes). */
export interface PseudoHeader {
  family: IpFamily;
  src: string | Uint8Array;
  dst: string | Uint8Array;
}

/** Header length of a repr: 20 + options rounded up to 4 (throws BAD_OPTION above 60). */
export function tcpHeaderLength(repr: TcpRepr): number {
  const n = TCP_MIN_HEADER_LENGTH + ((tcpOptionsLength(repr.options) + 3) & ~3);
  if (n > TCP_MAX_HEADER_LENGTH) throw new PacketError('BAD_OPTION', -1, `TCP options need a ${n}-byte header`);
  return n;
}

/** Header plus payload length of a repr. */
export function tcpLength(repr: TcpRepr): number {
  return tcpHeaderLength(repr) + repr.payload.length;
}

/** Parses the TCP segment at `off` whose length (header + data, from the IP layer) is `len`. */
export function parseTcp(buf: Buffer, off: number, len: number): TcpRepr {
  checkSpan(buf, off, len);
  if (len < TCP_MIN_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'TCP header');
  const b12 = buf[off + 12]!;
  const hlen = (b12 >>> 4) * 4;
  if (hlen < TCP_MIN_HEADER_LENGTH || hlen > len) {
    throw new PacketError('BAD_DATA_OFFSET', off + 12, `data offset ${b12 >>> 4} in a ${len}-byte segment`);
  }
  return {
    srcPort: u16(buf, off),
    dstPort: u16(buf, off + 2),
    seq: u32(buf, off + 4),
    ack: u32(buf, off + 8),
    flags: ((b12 & 1) << 8) | buf[off + 13]!,
    reserved: (b12 >>> 1) & 7,
    window: u16(buf, off + 14),
    checksum: u16(buf, off + 16),
    urgentPointer: u16(buf, off + 18),
    options: parseTcpOptions(buf, off + 20, hlen - 20),
    payload: buf.subarray(off + hlen, off + len),
  };
}

const scratch = Buffer.alloc(32);

/** Unfolded pseudo-header sum for a TCP segment of `length` bytes. */
export function tcpPseudoSum(pseudo: PseudoHeader, length: number): number {
  const alen = pseudo.family === 4 ? 4 : 16;
  let src: Uint8Array = scratch;
  let dst: Uint8Array = scratch;
  let dstOff = 16;
  if (typeof pseudo.src === 'string') writeIp(pseudo.family, pseudo.src, scratch, 0);
  else src = pseudo.src;
  if (typeof pseudo.dst === 'string') writeIp(pseudo.family, pseudo.dst, scratch, 16);
  else {
    dst = pseudo.dst;
    dstOff = 0;
  }
  if (src.length < alen || dst.length < alen) {
    throw new PacketError('BAD_ADDRESS', -1, `pseudo-header addresses must be ${alen} bytes for IPv${pseudo.family}`);
  }
  return pseudo.family === 4
    ? pseudoSumV4(src, 0, dst, dstOff, 6, length)
    : pseudoSumV6(src, 0, dst, dstOff, 6, length);
}

/** Writes header, options, padding and payload at `off` with the checksum; returns the bytes written. */
export function emitTcp(repr: TcpRepr, buf: Buffer, off: number, pseudo: PseudoHeader, opts?: EmitOptions): number {
  const hlen = tcpHeaderLength(repr);
  const total = hlen + repr.payload.length;
  checkRoom(buf, off, total);
  checkField(repr.srcPort, 16, 'srcPort', off);
  checkField(repr.dstPort, 16, 'dstPort', off + 2);
  checkField(repr.seq, 32, 'seq', off + 4);
  checkField(repr.ack, 32, 'ack', off + 8);
  checkField(repr.reserved ?? 0, 3, 'reserved', off + 12);
  checkField(repr.flags, 9, 'flags', off + 12);
  checkField(repr.window, 16, 'window', off + 14);
  checkField(repr.urgentPointer ?? 0, 16, 'urgentPointer', off + 18);
  put16(buf, off, repr.srcPort);
  put16(buf, off + 2, repr.dstPort);
  put32(buf, off + 4, repr.seq);
  put32(buf, off + 8, repr.ack);
  buf[off + 12] = ((hlen >>> 2) << 4) | ((repr.reserved ?? 0) << 1) | (repr.flags >>> 8);
  buf[off + 13] = repr.flags & 0xff;
  put16(buf, off + 14, repr.window);
  put16(buf, off + 16, 0);
  put16(buf, off + 18, repr.urgentPointer ?? 0);
  const olen = emitTcpOptions(repr.options, buf, off + 20);
  buf.fill(0, off + 20 + olen, off + hlen);
  buf.set(repr.payload, off + hlen);
  if (opts?.keepChecksums === true && repr.checksum !== undefined) {
    checkField(repr.checksum, 16, 'checksum', off + 16);
    put16(buf, off + 16, repr.checksum);
  } else {
    put16(buf, off + 16, transportChecksum(buf, off, total, tcpPseudoSum(pseudo, total), 16));
  }
  return total;
}

/** Unchecked accessors over a validated TCP header; setters keep the TCP checksum valid. */
export class TcpView extends HeaderView {
  get srcPort(): number {
    return u16(this.buf, this.offset);
  }

  get dstPort(): number {
    return u16(this.buf, this.offset + 2);
  }

  get seq(): number {
    return u32(this.buf, this.offset + 4);
  }

  get ack(): number {
    return u32(this.buf, this.offset + 8);
  }

  get headerLength(): number {
    return (this.buf[this.offset + 12]! >>> 4) * 4;
  }

  get flags(): number {
    return ((this.buf[this.offset + 12]! & 1) << 8) | this.buf[this.offset + 13]!;
  }

  get window(): number {
    return u16(this.buf, this.offset + 14);
  }

  get checksum(): number {
    return u16(this.buf, this.offset + 16);
  }

  get urgentPointer(): number {
    return u16(this.buf, this.offset + 18);
  }

  /** Absolute offset of the checksum field (for address rewrites that must adjust it). */
  get checksumOffset(): number {
    return this.offset + 16;
  }

  setSrcPort(port: number): void {
    writeU16Adjusting(this.buf, this.offset, port, this.offset + 16);
  }

  setDstPort(port: number): void {
    writeU16Adjusting(this.buf, this.offset + 2, port, this.offset + 16);
  }

  setSeq(seq: number): void {
    writeU32Adjusting(this.buf, this.offset + 4, seq, this.offset + 16);
  }

  setAck(ack: number): void {
    writeU32Adjusting(this.buf, this.offset + 8, ack, this.offset + 16);
  }

  setWindow(window: number): void {
    writeU16Adjusting(this.buf, this.offset + 14, window, this.offset + 16);
  }

  /** Recomputes the checksum over `segmentLength` bytes with the given unfolded pseudo-header sum. */
  fillChecksum(pseudoSum: number, segmentLength: number): void {
    put16(this.buf, this.offset + 16, transportChecksum(this.buf, this.offset, segmentLength, pseudoSum, 16));
  }
}
