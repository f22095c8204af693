// Whole-frame parsed form: PacketRepr (link header + IPv4/IPv6 + TCP or raw IP payload + link
// trailer) with parsePacket/emitPacket, used for byte-exact round trips and for rewriting by value.

import {
  emitEthernet, emitVlanTags, ethernetHeaderLength, isVlanTpid, parseEthernet, parseVlanTags,
} from './ethernet.js';
import type { EthernetRepr, VlanTag } from './ethernet.js';
import { PacketError } from './errors.js';
import { emitIpv4, ipv4HeaderLength, parseIpv4 } from './ipv4.js';
import type { EmitOptions, Ipv4Repr } from './ipv4.js';
import { emitIpv6, ipv6HeaderLength, parseIpv6 } from './ipv6.js';
import type { Ipv6Repr } from './ipv6.js';
import { LinkType } from './linktype.js';
import { emitNull, familyIpVersion, parseNull } from './null.js';
import type { NullRepr } from './null.js';
import {
  emitSll, emitSll2, parseSll, parseSll2, SLL2_HEADER_LENGTH, SLL_HEADER_LENGTH,
} from './sll.js';
import type { Sll2Repr, SllRepr } from './sll.js';
import { emitTcp, parseTcp, tcpLength } from './tcp.js';
import type { TcpRepr } from './tcp.js';

/** Cooked headers may be followed by VLAN tags (libpcap re-inserts stripped tags). */
export interface CookedTags {
  vlans: VlanTag[];
  /** EtherType after the tags (equals `protocol` when untagged). */
  etherType: number;
}

export type LinkRepr =
  | ({ kind: 'ethernet' } & EthernetRepr)
  | ({ kind: 'sll' } & SllRepr & CookedTags)
  | ({ kind: 'sll2' } & Sll2Repr & CookedTags)
  | ({ kind: 'loopback' } & NullRepr)
  | { kind: 'raw' };

export type IpRepr = ({ version: 4 } & Ipv4Repr) | ({ version: 6 } & Ipv6Repr);

export interface PacketRepr {
  linkType: number;
  link: LinkRepr;
  ip: IpRepr;
  /** The TCP segment, or null for other protocols and for fragments. */
  tcp: TcpRepr | null;
  /** IP payload when `tcp` is null (a view into the parsed buffer); ignored when `tcp` is set. */
  payload: Buffer;
  /** Bytes after the IP datagram (e.g. Ethernet minimum-size padding), kept verbatim. */
  trailer: Buffer;
}

function linkHeaderLength(link: LinkRepr): number {
  switch (link.kind) {
    case 'ethernet': return ethernetHeaderLength(link);
    case 'sll': return SLL_HEADER_LENGTH + 4 * link.vlans.length;
    case 'sll2': return SLL2_HEADER_LENGTH + 4 * link.vlans.length;
    case 'loopback': return 4;
    case 'raw': return 0;
  }
}

function versionOfEtherType(type: number, at: number): 4 | 6 {
  if (type === 0x0800) return 4;
  if (type === 0x86dd) return 6;
  throw new PacketError('UNSUPPORTED_ETHERTYPE', at, `EtherType 0x${type.toString(16).padStart(4, '0')}`);
}

function parseCookedTags(buf: Buffer, p: number, end: number, protocol: number): CookedTags & { length: number } {
  return isVlanTpid(protocol) ? parseVlanTags(buf, p, end, protocol) : { vlans: [], etherType: protocol, length: 0 };
}

/**
 * Parses a whole frame of `linkType`. Throws PacketError for malformed or non-IP frames and when
 * the capture is shorter than the IP datagram. Option/header bytes are copied; payloads are views.
 */
export function parsePacket(buf: Buffer, off: number, len: number, linkType: number): PacketRepr {
  const end = off + len;
  let link: LinkRepr;
  let p = off;
  let version: 4 | 6;
  switch (linkType) {
    case LinkType.EN10MB: {
      const eth = parseEthernet(buf, off, len);
      link = { kind: 'ethernet', ...eth };
      p = off + ethernetHeaderLength(eth);
      version = versionOfEtherType(eth.etherType, p - 2);
      break;
    }
    case LinkType.LINUX_SLL: {
      const h = parseSll(buf, off, len);
      p = off + SLL_HEADER_LENGTH;
      const tags = parseCookedTags(buf, p, end, h.protocol);
      p += tags.length;
      link = { kind: 'sll', ...h, vlans: tags.vlans, etherType: tags.etherType };
      version = versionOfEtherType(tags.etherType, p - 2);
      break;
    }
    case LinkType.LINUX_SLL2: {
      const h = parseSll2(buf, off, len);
      p = off + SLL2_HEADER_LENGTH;
      const tags = parseCookedTags(buf, p, end, h.protocol);
      p += tags.length;
      link = { kind: 'sll2', ...h, vlans: tags.vlans, etherType: tags.etherType };
      version = versionOfEtherType(tags.etherType, p - 2);
      break;
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      const h = parseNull(buf, off, len, linkType === LinkType.LOOP);
      const v = familyIpVersion(h.family);
      if (v === 0) throw new PacketError('UNSUPPORTED_FAMILY', off, `address family ${h.family}`);
      link = { kind: 'loopback', ...h };
      version = v;
      p = off + 4;
      break;
    }
    case LinkType.RAW:
    case LinkType.DLT_RAW_12:
    case LinkType.DLT_RAW_14:
    case LinkType.IPV4:
    case LinkType.IPV6: {
      if (len < 1 || off < 0 || off + len > buf.length) throw new PacketError('TRUNCATED', off, 'raw IP packet');
      const v = buf[off]! >>> 4;
      if ((v !== 4 && v !== 6) || (linkType === LinkType.IPV4 && v !== 4) || (linkType === LinkType.IPV6 && v !== 6)) {
        throw new PacketError('BAD_VERSION', off, `version ${v} under link type ${linkType}`);
      }
      link = { kind: 'raw' };
      version = v;
      break;
    }
    default:
      throw new PacketError('UNSUPPORTED_LINKTYPE', off, `link type ${linkType}`);
  }
  let ip: IpRepr;
  let upper: number;
  let upperEnd: number;
  let protocol: number;
  let fragment: boolean;
  if (version === 4) {
    const h = parseIpv4(buf, p, end - p);
    ip = { version: 4, ...h };
    upper = p + ipv4HeaderLength(h);
    upperEnd = upper + h.payloadLength;
    protocol = h.protocol;
    fragment = h.moreFragments || h.fragmentOffset !== 0;
  } else {
    const h = parseIpv6(buf, p, end - p);
    ip = { version: 6, ...h };
    upper = p + ipv6HeaderLength(h);
    upperEnd = upper + h.payloadLength;
    protocol = h.nextHeader;
    fragment = h.fragment !== null;
  }
  const tcp = protocol === 6 && !fragment ? parseTcp(buf, upper, upperEnd - upper) : null;
  return {
    linkType,
    link,
    ip,
    tcp,
    payload: tcp ? tcp.payload : buf.subarray(upper, upperEnd),
    trailer: Buffer.from(buf.subarray(upperEnd, end)),
  };
}

/** Total bytes `emitPacket` writes for a repr. */
export function packetLength(repr: PacketRepr): number {
  const ipHeader = repr.ip.version === 4 ? ipv4HeaderLength(repr.ip) : ipv6HeaderLength(repr.ip);
  const upper = repr.tcp ? tcpLength(repr.tcp) : repr.payload.length;
  return linkHeaderLength(repr.link) + ipHeader + upper + repr.trailer.length;
}

function emitLink(link: LinkRepr, buf: Buffer, off: number): number {
  switch (link.kind) {
    case 'ethernet':
      return emitEthernet(link, buf, off);
    case 'sll':
      return emitSll(link, buf, off) + emitVlanTags(link.vlans, link.etherType, buf, off + SLL_HEADER_LENGTH);
    case 'sll2':
      return emitSll2(link, buf, off) + emitVlanTags(link.vlans, link.etherType, buf, off + SLL2_HEADER_LENGTH);
    case 'loopback':
      return emitNull(link, buf, off);
    case 'raw':
      return 0;
  }
}

/**
 * Emits a whole frame into a new Buffer. The IP length fields are derived from the TCP segment
 * (or payload); checksums are computed unless `opts.keepChecksums` asks for the repr's values.
 */
export function emitPacket(repr: PacketRepr, opts?: EmitOptions): Buffer {
  const out = Buffer.alloc(packetLength(repr));
  let p = emitLink(repr.link, out, 0);
  const upperLength = repr.tcp ? tcpLength(repr.tcp) : repr.payload.length;
  const ipStart = p;
  if (repr.ip.version === 4) {
    p += emitIpv4({ ...repr.ip, payloadLength: upperLength }, out, p, opts);
  } else {
    p += emitIpv6({ ...repr.ip, payloadLength: upperLength }, out, p);
  }
  if (repr.tcp) {
    const alen = repr.ip.version === 4 ? 4 : 16;
    const srcAt = ipStart + (repr.ip.version === 4 ? 12 : 8);
    const pseudo = {
      version: repr.ip.version,
      src: out.subarray(srcAt, srcAt + alen),
      dst: out.subarray(srcAt + alen, srcAt + 2 * alen),
    };
    p += emitTcp(repr.tcp, out, p, pseudo, opts);
  } else {
    out.set(repr.payload, p);
    p += repr.payload.length;
  }
  out.set(repr.trailer, p);
  return out;
}
