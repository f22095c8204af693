// Whole-frame parsed form: PacketRepr (link header + IPv4/IPv6 + TCP or raw IP payload + link
// trailer) with parsePacket/emitPacket, used for byte-exact round trips and for rewriting by value.

import { emitEthernet, emitVlanTags, ethernetHeaderLength, parseEthernet, parseVlanTags } from './ethernet.js';
import type { EthernetRepr, VlanTag } from './ethernet.js';
import { emitIpv4, ipv4HeaderLength, parseIpv4 } from './ipv4.js';
import type { EmitOptions, Ipv4Repr } from './ipv4.js';
import { emitIpv6, ipv6HeaderLength, parseIpv6 } from './ipv6.js';
import type { Ipv6Repr } from './ipv6.js';
import { LinkDecoder } from './link.js';
import { LinkType } from './linktype.js';
import { emitNull, parseNull } from './null.js';
import type { NullRepr } from './null.js';
import { emitSll, emitSll2, parseSll, parseSll2, SLL2_HEADER_LENGTH, SLL_HEADER_LENGTH } from './sll.js';
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
    case 'ethernet':
      return ethernetHeaderLength(link);
    case 'sll':
      return SLL_HEADER_LENGTH + 4 * link.vlans.length;
    case 'sll2':
      return SLL2_HEADER_LENGTH + 4 * link.vlans.length;
    case 'loopback':
      return 4;
    case 'raw':
      return 0;
  }
}

/** The VLAN tags after a cooked header at `at` (announced by `protocol`) up to the IP header. */
function cookedTags(buf: Buffer, at: number, ipStart: number, protocol: number, etherType: number): CookedTags {
  return { vlans: parseVlanTags(buf, at, ipStart, protocol).vlans, etherType };
}

/** The link header's Repr; `walk` has already found the IP header (and every error). */
function parseLink(buf: Buffer, walk: LinkDecoder): LinkRepr {
  const off = walk.frameOffset;
  const len = walk.frameLength;
  const ipStart = off + walk.linkHeaderLength;
  switch (walk.linkType) {
    case LinkType.EN10MB:
      return { kind: 'ethernet', ...parseEthernet(buf, off, len) };
    case LinkType.LINUX_SLL: {
      const h = parseSll(buf, off, len);
      return { kind: 'sll', ...h, ...cookedTags(buf, off + SLL_HEADER_LENGTH, ipStart, h.protocol, walk.etherType) };
    }
    case LinkType.LINUX_SLL2: {
      const h = parseSll2(buf, off, len);
      return { kind: 'sll2', ...h, ...cookedTags(buf, off + SLL2_HEADER_LENGTH, ipStart, h.protocol, walk.etherType) };
    }
    case LinkType.NULL:
    case LinkType.LOOP:
      return { kind: 'loopback', ...parseNull(buf, off, len, walk.linkType === LinkType.LOOP) };
    default:
      return { kind: 'raw' };
  }
}

/**
 * Parses a whole frame of `linkType`. Throws PacketError for malformed or non-IP frames and when
 * the capture is shorter than the IP datagram. Option/header bytes are copied; payloads are views.
 */
export function parsePacket(buf: Buffer, off: number, len: number, linkType: number): PacketRepr {
  const end = off + len;
  const walk = new LinkDecoder();
  const version = walk.decodeLink(buf, off, len, linkType);
  if (version === 0) throw walk.toError()!;
  const link = parseLink(buf, walk);
  const p = off + walk.linkHeaderLength;
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
      family: repr.ip.version,
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
