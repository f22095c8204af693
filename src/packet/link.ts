// The one walk over a frame's link layer (Ethernet, VLAN tags, Linux cooked v1/v2, BSD loopback,
// raw IP) to its IP header, without allocating. PacketDecoder continues from here to IP and TCP;
// parsePacket uses it to find the IP header and its errors, then builds the link Repr.

import { u16, u32, u32le } from './bytes.js';
import { MAX_VLAN_TAGS, isVlanTpid } from './ethernet.js';
import { PacketError } from './errors.js';
import type { PacketErrorCode } from './errors.js';
import { LinkType } from './linktype.js';
import { familyIpVersion } from './null.js';

const EMPTY = Buffer.alloc(0);

/**
 * Decodes the link-layer header of a frame into its own fields (offsets absolute in `buf`). Every
 * field describes the last `decodeLink` call; failures leave a code and offset (see toError()).
 */
export class LinkDecoder {
  /** Buffer of the last decode. */
  buf: Buffer = EMPTY;

  // ---- link layer
  linkType = -1;
  /** Start and captured length of the frame. */
  frameOffset = 0;
  frameLength = 0;
  /** Bytes of link-layer header (incl. VLAN tags) before the IP header. */
  linkHeaderLength = 0;
  /** EtherType / cooked protocol the link layer announced (0 for raw IP and NULL/LOOP). */
  etherType = 0;
  /** Ethernet: offset of the header (MACs at +0 / +6), else -1. */
  ethernetOffset = -1;
  /** VLAN tags seen (Ethernet or cooked), with the outer and inner VLAN ids (-1 when absent). */
  vlanCount = 0;
  outerVlanId = -1;
  innerVlanId = -1;
  /** Linux cooked: packet type (0 host, 4 outgoing, ...), ARPHRD type and (SLL2 only) ifindex; else -1. */
  sllPacketType = -1;
  sllArphrdType = -1;
  sllIfIndex = -1;
  /** NULL/LOOP: the address family; else -1. */
  loopbackFamily = -1;

  // ---- failure
  errorCode: PacketErrorCode | null = null;
  errorOffset = -1;

  /**
   * Walks the link-layer header of the `length` bytes at `offset` of `buf` captured with `linkType`.
   * Returns the IP version the header announces (the IP header starts `linkHeaderLength` bytes in),
   * or 0 with `errorCode`/`errorOffset` set. Never throws.
   */
  decodeLink(buf: Buffer, offset: number, length: number, linkType: number): 0 | 4 | 6 {
    this.buf = buf;
    this.linkType = linkType;
    this.frameOffset = offset;
    this.frameLength = length;
    this.linkHeaderLength = 0;
    this.etherType = 0;
    this.ethernetOffset = -1;
    this.vlanCount = 0;
    this.outerVlanId = -1;
    this.innerVlanId = -1;
    this.sllPacketType = -1;
    this.sllArphrdType = -1;
    this.sllIfIndex = -1;
    this.loopbackFamily = -1;
    this.errorCode = null;
    this.errorOffset = -1;

    if (
      (offset | 0) !== offset ||
      (length | 0) !== length ||
      offset < 0 ||
      length < 0 ||
      offset + length > buf.length
    ) {
      return this.stop('TRUNCATED', offset);
    }
    const end = offset + length;
    let p = offset;
    let type = 0;
    switch (linkType) {
      case LinkType.EN10MB:
        if (length < 14) return this.stop('TRUNCATED', offset);
        this.ethernetOffset = offset;
        type = u16(buf, offset + 12);
        p = offset + 14;
        break;
      case LinkType.LINUX_SLL:
        if (length < 16) return this.stop('TRUNCATED', offset);
        this.sllPacketType = u16(buf, offset);
        this.sllArphrdType = u16(buf, offset + 2);
        type = u16(buf, offset + 14);
        p = offset + 16;
        break;
      case LinkType.LINUX_SLL2:
        if (length < 20) return this.stop('TRUNCATED', offset);
        type = u16(buf, offset);
        this.sllIfIndex = u32(buf, offset + 4);
        this.sllArphrdType = u16(buf, offset + 8);
        this.sllPacketType = buf[offset + 10]!;
        p = offset + 20;
        break;
      case LinkType.NULL:
      case LinkType.LOOP: {
        if (length < 4) return this.stop('TRUNCATED', offset);
        // NULL is in the capturing host's byte order: a family only plausible swapped is little-endian.
        let family = u32(buf, offset);
        if (linkType === LinkType.NULL && (family & 0xffff0000) !== 0) family = u32le(buf, offset);
        this.loopbackFamily = family;
        const version = familyIpVersion(family);
        if (version === 0) return this.stop('UNSUPPORTED_FAMILY', offset);
        this.linkHeaderLength = 4;
        return version;
      }
      case LinkType.RAW:
      case LinkType.DLT_RAW_12:
      case LinkType.DLT_RAW_14:
      case LinkType.IPV4:
      case LinkType.IPV6: {
        if (length < 1) return this.stop('TRUNCATED', offset);
        const version = buf[offset]! >>> 4;
        const announced = linkType === LinkType.IPV4 ? 4 : linkType === LinkType.IPV6 ? 6 : version;
        if ((version !== 4 && version !== 6) || version !== announced) return this.stop('BAD_VERSION', offset);
        return version;
      }
      default:
        return this.stop('UNSUPPORTED_LINKTYPE', offset);
    }
    // EtherType-carrying link layers: follow VLAN tags, then require IPv4/IPv6.
    while (isVlanTpid(type)) {
      if (this.vlanCount === MAX_VLAN_TAGS) return this.stop('BAD_FIELD', p);
      if (p + 4 > end) return this.stop('TRUNCATED', p);
      const vid = u16(buf, p) & 0x0fff;
      if (this.vlanCount === 0) this.outerVlanId = vid;
      else if (this.vlanCount === 1) this.innerVlanId = vid;
      this.vlanCount++;
      type = u16(buf, p + 2);
      p += 4;
    }
    this.etherType = type;
    const version = type === 0x0800 ? 4 : type === 0x86dd ? 6 : 0;
    if (version === 0) return this.stop('UNSUPPORTED_ETHERTYPE', p - 2);
    this.linkHeaderLength = p - offset;
    return version;
  }

  protected fail(code: PacketErrorCode, offset: number): false {
    this.errorCode = code;
    this.errorOffset = offset;
    return false;
  }

  private stop(code: PacketErrorCode, offset: number): 0 {
    this.fail(code, offset);
    return 0;
  }

  /** The last failure as a PacketError, or null after a successful decode. */
  toError(): PacketError | null {
    return this.errorCode === null
      ? null
      : new PacketError(this.errorCode, this.errorOffset, `decoding link type ${this.linkType}`);
  }
}
