// The hot-path decoder: one reusable PacketDecoder per capture decodes a frame of any supported
// link type down to IP and TCP into plain numeric fields and preallocated views, without
// allocating. Failures leave an error code and offset in the decoder (materialize with toError()).

import { formatIp, readIpv4 } from './address.js';
import { u16, u32 } from './bytes.js';
import { foldSum, onesSum, pseudoSumV4, pseudoSumV6, verifyIpv4HeaderChecksum } from './checksum.js';
import { EthernetView } from './ethernet.js';
import { Ipv4View } from './ipv4.js';
import { Ipv6View, MAX_IPV6_EXTENSION_HEADERS, ipv6ExtensionLength } from './ipv6.js';
import { LinkDecoder } from './link.js';
import { TcpView } from './tcp.js';
import { readTcpOptionSummary, walkTcpOptions } from './tcp-options.js';
import type { TcpOptionSummary } from './tcp-options.js';

const EMPTY = Buffer.alloc(0);

/**
 * Decodes frames into its own fields (the link-layer ones from LinkDecoder). Every field describes
 * the last `decode` call; offsets are absolute positions in `buf`. The decoder keeps a reference to
 * the buffer, so accessors that read bytes lazily (addresses, options, checksums) must be used
 * before the buffer is reused.
 */
export class PacketDecoder extends LinkDecoder {
  // ---- IP layer
  /** 4 or 6 once the IP header decoded, else 0. */
  ipVersion = 0;
  ipOffset = -1;
  /** IP header length; for IPv6 including the extension headers walked. */
  ipHeaderLength = 0;
  /** IP datagram length per its header (IPv4 total length; IPv6 40 + payload length). */
  ipTotalLength = 0;
  /** Upper-layer protocol (after IPv6 extension headers). */
  protocol = -1;
  /** TTL / hop limit. */
  ttl = 0;
  /** IPv4 identification, or the IPv6 fragment identification (0 without a fragment header). */
  ipId = 0;
  /** Offsets of the source and destination addresses, and their length (4 or 16). */
  srcOffset = -1;
  dstOffset = -1;
  addressLength = 0;
  /** True for an IP fragment (offset > 0 or more-fragments set); fragments are not decoded to TCP. */
  isFragment = false;
  /** Fragment offset in bytes. */
  fragmentOffset = 0;
  moreFragments = false;
  /** True when the capture holds fewer bytes than the IP header says (snaplen cut the packet). */
  truncated = false;

  // ---- TCP
  isTcp = false;
  tcpOffset = -1;
  tcpHeaderLength = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** The nine flag bits (TcpFlags). */
  flags = 0;
  window = 0;
  /**
   * Upper-layer data: for TCP the segment data, for other protocols and fragments the IP payload.
   * `payloadLength` counts the bytes present in the buffer; `wirePayloadLength` the bytes the
   * IP header promises (larger only when `truncated`).
   */
  payloadOffset = -1;
  payloadLength = 0;
  wirePayloadLength = 0;

  // ---- views (valid for the layers decoded)
  readonly ethernet = new EthernetView();
  readonly ipv4 = new Ipv4View();
  readonly ipv6 = new Ipv6View();
  readonly tcp = new TcpView();

  private lengthFieldOffset = -1;

  /**
   * Decodes `length` bytes at `offset` of `buf` captured with `linkType`. Returns true when the
   * IP layer decoded (check `isTcp` for TCP; a TCP packet whose TCP header is malformed returns
   * false), false with `errorCode`/`errorOffset` set otherwise. Never throws.
   */
  decode(buf: Buffer, offset: number, length: number, linkType: number): boolean {
    this.ipVersion = 0;
    this.ipOffset = -1;
    this.ipHeaderLength = 0;
    this.ipTotalLength = 0;
    this.protocol = -1;
    this.ttl = 0;
    this.ipId = 0;
    this.srcOffset = -1;
    this.dstOffset = -1;
    this.addressLength = 0;
    this.isFragment = false;
    this.fragmentOffset = 0;
    this.moreFragments = false;
    this.truncated = false;
    this.isTcp = false;
    this.tcpOffset = -1;
    this.tcpHeaderLength = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.seq = 0;
    this.ack = 0;
    this.flags = 0;
    this.window = 0;
    this.payloadOffset = -1;
    this.payloadLength = 0;
    this.wirePayloadLength = 0;
    const version = this.decodeLink(buf, offset, length, linkType);
    if (this.ethernetOffset >= 0) this.ethernet.reset(buf, this.ethernetOffset);
    if (version === 0) return false;
    const p = offset + this.linkHeaderLength;
    return version === 4 ? this.decodeIpv4(p, offset + length) : this.decodeIpv6(p, offset + length);
  }

  private decodeIpv4(p: number, end: number): boolean {
    const buf = this.buf;
    if (end - p < 20) return this.fail('TRUNCATED', p);
    const vihl = buf[p]!;
    if (vihl >>> 4 !== 4) return this.fail('BAD_VERSION', p);
    const hlen = (vihl & 15) << 2;
    if (hlen < 20) return this.fail('BAD_IHL', p);
    if (p + hlen > end) return this.fail('TRUNCATED', p);
    const total = u16(buf, p + 2);
    if (total < hlen) return this.fail('BAD_TOTAL_LENGTH', p + 2);
    this.ipVersion = 4;
    this.ipOffset = p;
    this.ipHeaderLength = hlen;
    this.ipTotalLength = total;
    this.ipv4.reset(buf, p);
    this.ttl = buf[p + 8]!;
    this.protocol = buf[p + 9]!;
    this.ipId = u16(buf, p + 4);
    this.srcOffset = p + 12;
    this.dstOffset = p + 16;
    this.addressLength = 4;
    this.lengthFieldOffset = p + 2;
    const frag = u16(buf, p + 6);
    const wireEnd = p + total;
    let capEnd = wireEnd;
    if (wireEnd > end) {
      this.truncated = true;
      capEnd = end;
    }
    if ((frag & 0x3fff) !== 0) {
      this.isFragment = true;
      this.fragmentOffset = (frag & 0x1fff) << 3;
      this.moreFragments = (frag & 0x2000) !== 0;
      return this.setIpPayload(p + hlen, wireEnd, capEnd);
    }
    if (this.protocol !== 6) return this.setIpPayload(p + hlen, wireEnd, capEnd);
    return this.decodeTcp(p + hlen, wireEnd, capEnd);
  }

  private decodeIpv6(p: number, end: number): boolean {
    const buf = this.buf;
    if (end - p < 40) return this.fail('TRUNCATED', p);
    if (buf[p]! >>> 4 !== 6) return this.fail('BAD_VERSION', p);
    const wireEnd = p + 40 + u16(buf, p + 4);
    this.ipVersion = 6;
    this.ipOffset = p;
    this.ipTotalLength = wireEnd - p;
    this.ipv6.reset(buf, p);
    this.ttl = buf[p + 7]!;
    this.srcOffset = p + 8;
    this.dstOffset = p + 24;
    this.addressLength = 16;
    this.lengthFieldOffset = p + 4;
    let capEnd = wireEnd;
    if (wireEnd > end) {
      this.truncated = true;
      capEnd = end;
    }
    let next = buf[p + 6]!;
    let q = p + 40;
    let count = 0;
    while (true) {
      const hlen = ipv6ExtensionLength(next, 0);
      if (hlen === 0) break;
      if (count === MAX_IPV6_EXTENSION_HEADERS) return this.fail('BAD_EXT_HEADER', q);
      if (q + 8 > wireEnd) return this.fail('BAD_EXT_HEADER', q);
      if (q + 8 > capEnd) return this.fail('TRUNCATED', q);
      const size = ipv6ExtensionLength(next, buf[q + 1]!);
      if (q + size > wireEnd) return this.fail('BAD_EXT_HEADER', q);
      if (q + size > capEnd) return this.fail('TRUNCATED', q);
      count++;
      if (next === 44) {
        const fo = u16(buf, q + 2);
        this.ipId = u32(buf, q + 4);
        if ((fo & 0xfff9) !== 0) {
          this.isFragment = true;
          this.fragmentOffset = fo & 0xfff8;
          this.moreFragments = (fo & 1) !== 0;
          next = buf[q]!;
          q += size;
          break;
        }
      }
      next = buf[q]!;
      q += size;
    }
    this.ipHeaderLength = q - p;
    this.protocol = next;
    if (this.isFragment || next !== 6) return this.setIpPayload(q, wireEnd, capEnd);
    return this.decodeTcp(q, wireEnd, capEnd);
  }

  private setIpPayload(start: number, wireEnd: number, capEnd: number): boolean {
    this.payloadOffset = start;
    this.payloadLength = Math.max(0, capEnd - start);
    this.wirePayloadLength = wireEnd - start;
    return true;
  }

  private decodeTcp(t: number, wireEnd: number, capEnd: number): boolean {
    const buf = this.buf;
    if (wireEnd - t < 20) return this.fail('BAD_TOTAL_LENGTH', this.lengthFieldOffset);
    if (capEnd - t < 20) return this.fail('TRUNCATED', t);
    const b12 = buf[t + 12]!;
    const hlen = (b12 >>> 4) << 2;
    if (hlen < 20 || t + hlen > wireEnd) return this.fail('BAD_DATA_OFFSET', t + 12);
    if (t + hlen > capEnd) return this.fail('TRUNCATED', t);
    this.tcpOffset = t;
    this.tcpHeaderLength = hlen;
    this.tcp.reset(buf, t);
    this.srcPort = u16(buf, t);
    this.dstPort = u16(buf, t + 2);
    this.seq = u32(buf, t + 4);
    this.ack = u32(buf, t + 8);
    this.flags = ((b12 & 1) << 8) | buf[t + 13]!;
    this.window = u16(buf, t + 14);
    this.payloadOffset = t + hlen;
    this.payloadLength = capEnd - t - hlen;
    this.wirePayloadLength = wireEnd - t - hlen;
    this.isTcp = true;
    return true;
  }

  /** Source address as text (formatted on each call). */
  srcAddress(): string {
    return this.addressLength === 0 ? '' : formatIp(this.buf, this.srcOffset, this.addressLength === 4 ? 4 : 16);
  }

  dstAddress(): string {
    return this.addressLength === 0 ? '' : formatIp(this.buf, this.dstOffset, this.addressLength === 4 ? 4 : 16);
  }

  /** IPv4 source as an unsigned 32-bit number (0 when the packet is not IPv4). */
  srcIpv4(): number {
    return this.addressLength === 4 ? readIpv4(this.buf, this.srcOffset) : 0;
  }

  dstIpv4(): number {
    return this.addressLength === 4 ? readIpv4(this.buf, this.dstOffset) : 0;
  }

  /** True when every flag bit in `mask` is set. */
  hasFlags(mask: number): boolean {
    return (this.flags & mask) === mask;
  }

  /** Offset and length of the TCP option area. */
  get tcpOptionsOffset(): number {
    return this.tcpOffset + 20;
  }

  get tcpOptionsLength(): number {
    return this.isTcp ? this.tcpHeaderLength - 20 : 0;
  }

  /** Fills `out` from the TCP options; false when the options are malformed (or not TCP). */
  readTcpOptions(out: TcpOptionSummary): boolean {
    if (!this.isTcp) {
      out.clear();
      return false;
    }
    return readTcpOptionSummary(this.buf, this.tcpOffset + 20, this.tcpHeaderLength - 20, out) < 0;
  }

  /**
   * Calls `visit(kind, dataOffset, dataLength)` per TCP option (EOL/NOP skipped). Returns -1 when
   * the options are well formed, else the absolute offset of the malformed option.
   */
  forEachTcpOption(visit: (kind: number, dataOffset: number, dataLength: number) => void): number {
    if (!this.isTcp) return -1;
    return walkTcpOptions(this.buf, this.tcpOffset + 20, this.tcpHeaderLength - 20, visit);
  }

  /** True when the IPv4 header checksum verifies (false for IPv6 or before decoding). */
  verifyIpChecksum(): boolean {
    return this.ipVersion === 4 && verifyIpv4HeaderChecksum(this.buf, this.ipOffset, this.ipHeaderLength);
  }

  /**
   * True when the TCP checksum verifies. Needs the whole segment (false when truncated). Note that
   * locally sent packets captured on Linux usually carry only the pseudo-header sum (offload).
   */
  verifyTcpChecksum(): boolean {
    if (!this.isTcp || this.truncated) return false;
    const len = this.tcpHeaderLength + this.payloadLength;
    const pseudo =
      this.ipVersion === 4
        ? pseudoSumV4(this.buf, this.srcOffset, this.buf, this.dstOffset, 6, len)
        : pseudoSumV6(this.buf, this.srcOffset, this.buf, this.dstOffset, 6, len);
    return foldSum(pseudo + onesSum(this.buf, this.tcpOffset, len)) === 0xffff;
  }

  /**
   * The payload as a Buffer view (allocates the view object; prefer offsets on hot paths). An empty
   * payload (every bare ACK) is one shared empty Buffer: no view.
   */
  payload(): Buffer {
    return this.payloadOffset < 0 || this.payloadLength === 0
      ? EMPTY
      : this.buf.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }
}
