// Linux cooked capture headers: SLL v1 (LINKTYPE_LINUX_SLL 113, 16 bytes) and SLL v2
// (LINKTYPE_LINUX_SLL2 276, 20 bytes), as written by libpcap for the "any" device.

import { checkField, checkRoom, checkSpan, put16, put32, u16, u32 } from './bytes.js';
import { PacketError } from './errors.js';

export const SLL_HEADER_LENGTH = 16;
export const SLL2_HEADER_LENGTH = 20;

/** sll_pkttype values. */
export const SllPacketType = {
  HOST: 0,
  BROADCAST: 1,
  MULTICAST: 2,
  OTHERHOST: 3,
  OUTGOING: 4,
} as const;

export interface SllRepr {
  packetType: number;
  /** ARPHRD_* device type (1 Ethernet, 772 loopback, ...). */
  arphrdType: number;
  /** Link-layer address length as stored (the address field itself is always 8 bytes). */
  addressLength: number;
  /** The 8-byte address field, verbatim. */
  address: Buffer;
  /** Protocol (EtherType for IP packets). */
  protocol: number;
}

export interface Sll2Repr {
  protocol: number;
  /** The reserved 16 bits, verbatim. */
  reserved: number;
  ifIndex: number;
  arphrdType: number;
  packetType: number;
  addressLength: number;
  /** The 8-byte address field, verbatim. */
  address: Buffer;
}

export function parseSll(buf: Buffer, off: number, len: number): SllRepr {
  checkSpan(buf, off, len);
  if (len < SLL_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'Linux cooked (SLL) header');
  return {
    packetType: u16(buf, off),
    arphrdType: u16(buf, off + 2),
    addressLength: u16(buf, off + 4),
    address: Buffer.from(buf.subarray(off + 6, off + 14)),
    protocol: u16(buf, off + 14),
  };
}

export function emitSll(repr: SllRepr, buf: Buffer, off: number): number {
  checkRoom(buf, off, SLL_HEADER_LENGTH);
  checkField(repr.packetType, 16, 'packetType', off);
  checkField(repr.arphrdType, 16, 'arphrdType', off + 2);
  checkField(repr.addressLength, 16, 'addressLength', off + 4);
  checkField(repr.protocol, 16, 'protocol', off + 14);
  if (repr.address.length > 8) throw new PacketError('BAD_FIELD', off + 6, 'SLL address longer than 8 bytes');
  put16(buf, off, repr.packetType);
  put16(buf, off + 2, repr.arphrdType);
  put16(buf, off + 4, repr.addressLength);
  buf.fill(0, off + 6, off + 14);
  buf.set(repr.address, off + 6);
  put16(buf, off + 14, repr.protocol);
  return SLL_HEADER_LENGTH;
}

export function parseSll2(buf: Buffer, off: number, len: number): Sll2Repr {
  checkSpan(buf, off, len);
  if (len < SLL2_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'Linux cooked (SLL2) header');
  return {
    protocol: u16(buf, off),
    reserved: u16(buf, off + 2),
    ifIndex: u32(buf, off + 4),
    arphrdType: u16(buf, off + 8),
    packetType: buf[off + 10]!,
    addressLength: buf[off + 11]!,
    address: Buffer.from(buf.subarray(off + 12, off + 20)),
  };
}

export function emitSll2(repr: Sll2Repr, buf: Buffer, off: number): number {
  checkRoom(buf, off, SLL2_HEADER_LENGTH);
  checkField(repr.protocol, 16, 'protocol', off);
  checkField(repr.reserved, 16, 'reserved', off + 2);
  checkField(repr.ifIndex, 32, 'ifIndex', off + 4);
  checkField(repr.arphrdType, 16, 'arphrdType', off + 8);
  checkField(repr.packetType, 8, 'packetType', off + 10);
  checkField(repr.addressLength, 8, 'addressLength', off + 11);
  if (repr.address.length > 8) throw new PacketError('BAD_FIELD', off + 12, 'SLL2 address longer than 8 bytes');
  put16(buf, off, repr.protocol);
  put16(buf, off + 2, repr.reserved);
  put32(buf, off + 4, repr.ifIndex);
  put16(buf, off + 8, repr.arphrdType);
  buf[off + 10] = repr.packetType;
  buf[off + 11] = repr.addressLength;
  buf.fill(0, off + 12, off + 20);
  buf.set(repr.address, off + 12);
  return SLL2_HEADER_LENGTH;
}
