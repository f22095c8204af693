// Ethernet II with any number of 802.1Q / 802.1ad (QinQ) tags: constants, an unchecked view,
// and the parsed form EthernetRepr with parse/emit.

import { formatMac, writeMac } from './address.js';
import { checkField, checkRoom, checkSpan, put16, u16 } from './bytes.js';
import { PacketError } from './errors.js';
import { HeaderView } from './view.js';

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  QINQ: 0x88a8,
  QINQ_OLD: 0x9100,
} as const;

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
/** Most VLAN tags the parsers follow before giving up with BAD_FIELD. */
export const MAX_VLAN_TAGS = 8;

/** True for the tag protocol identifiers that introduce a VLAN tag (0x8100, 0x88a8, 0x9100). */
export function isVlanTpid(type: number): boolean {
  return type === 0x8100 || type === 0x88a8 || type === 0x9100;
}

export interface VlanTag {
  /** Tag protocol identifier of this tag (0x8100 for 802.1Q, 0x88a8 for an 802.1ad S-tag). */
  tpid: number;
  /** Priority code point, 3 bits. */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN identifier, 12 bits. */
  vid: number;
}

export interface EthernetRepr {
  dst: string;
  src: string;
  /** Tags in wire order (outermost first). */
  vlans: VlanTag[];
  /** EtherType after the tags (0x0800 IPv4, 0x86dd IPv6, ...; values <= 1500 are 802.3 lengths). */
  etherType: number;
}

/** Header length of an Ethernet repr including its VLAN tags. */
export function ethernetHeaderLength(repr: EthernetRepr): number {
  return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH * repr.vlans.length;
}

/**
 * Parses VLAN tags starting at `off` where `type` (already read) is the first TPID; returns the
 * tags and the final EtherType. Used after Ethernet and after Linux cooked headers.
 */
export function parseVlanTags(
  buf: Uint8Array,
  off: number,
  end: number,
  type: number,
): { vlans: VlanTag[]; etherType: number; length: number } {
  const vlans: VlanTag[] = [];
  let p = off;
  while (isVlanTpid(type)) {
    if (vlans.length === MAX_VLAN_TAGS) throw new PacketError('BAD_FIELD', p, 'too many VLAN tags');
    if (p + VLAN_TAG_LENGTH > end) throw new PacketError('TRUNCATED', p, 'VLAN tag');
    const tci = u16(buf, p);
    vlans.push({ tpid: type, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0x0fff });
    type = u16(buf, p + 2);
    p += VLAN_TAG_LENGTH;
  }
  return { vlans, etherType: type, length: p - off };
}

/** Writes VLAN tags followed by the final EtherType (the first TPID is the caller's). */
export function emitVlanTags(vlans: readonly VlanTag[], etherType: number, buf: Uint8Array, off: number): number {
  let p = off;
  for (let i = 0; i < vlans.length; i++) {
    const t = vlans[i]!;
    checkField(t.pcp, 3, 'vlan.pcp', p);
    checkField(t.vid, 12, 'vlan.vid', p);
    put16(buf, p, (t.pcp << 13) | (t.dei ? 0x1000 : 0) | t.vid);
    const next = vlans[i + 1];
    put16(buf, p + 2, next ? next.tpid : etherType);
    p += VLAN_TAG_LENGTH;
  }
  return p - off;
}

/** Parses an Ethernet II header (and its VLAN tags) at `off`; `len` bytes are available. */
export function parseEthernet(buf: Buffer, off: number, len: number): EthernetRepr {
  checkSpan(buf, off, len);
  if (len < ETHERNET_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'Ethernet header');
  const tags = parseVlanTags(buf, off + 14, off + len, u16(buf, off + 12));
  return { dst: formatMac(buf, off), src: formatMac(buf, off + 6), vlans: tags.vlans, etherType: tags.etherType };
}

/** Writes the Ethernet header (with tags) at `off`; returns the bytes written. */
export function emitEthernet(repr: EthernetRepr, buf: Buffer, off: number): number {
  checkRoom(buf, off, ethernetHeaderLength(repr));
  checkField(repr.etherType, 16, 'etherType', off + 12);
  for (const t of repr.vlans) checkField(t.tpid, 16, 'vlan.tpid', off + 12);
  writeMac(repr.dst, buf, off);
  writeMac(repr.src, buf, off + 6);
  const first = repr.vlans[0];
  put16(buf, off + 12, first ? first.tpid : repr.etherType);
  return 14 + emitVlanTags(repr.vlans, repr.etherType, buf, off + 14);
}

/** Unchecked accessors over an Ethernet header at `offset` (validate with the decoder or parser first). */
export class EthernetView extends HeaderView {
  get dst(): string {
    return formatMac(this.buf, this.offset);
  }

  set dst(mac: string) {
    writeMac(mac, this.buf, this.offset);
  }

  get src(): string {
    return formatMac(this.buf, this.offset + 6);
  }

  set src(mac: string) {
    writeMac(mac, this.buf, this.offset + 6);
  }

  /** The type field right after the addresses (a TPID when tagged). */
  get outerType(): number {
    return u16(this.buf, this.offset + 12);
  }
}
