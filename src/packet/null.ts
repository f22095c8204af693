// BSD loopback headers: LINKTYPE_NULL (0, a 4-byte address family in the capturing host's byte
// order) and LINKTYPE_LOOP (108, big-endian). Also maps the families that mean IPv4/IPv6.

import { checkField, checkRoom, checkSpan, put32, put32le, u32, u32le } from './bytes.js';
import { PacketError } from './errors.js';

export const NULL_HEADER_LENGTH = 4;

/** Address family values seen in NULL/LOOP headers. */
export const AddressFamily = {
  INET: 2,
  /** Linux AF_INET6. */
  INET6_LINUX: 10,
  /** NetBSD / OpenBSD / BSD/OS AF_INET6. */
  INET6_BSD: 24,
  /** FreeBSD / DragonFly AF_INET6. */
  INET6_FREEBSD: 28,
  /** macOS AF_INET6. */
  INET6_DARWIN: 30,
} as const;

/** IP version carried by an address family value, or 0 when it is not IP. */
export function familyIpVersion(family: number): 0 | 4 | 6 {
  if (family === 2) return 4;
  if (family === 10 || family === 24 || family === 28 || family === 30) return 6;
  return 0;
}

export interface NullRepr {
  family: number;
  /** Byte order the family was stored in (always true for LINKTYPE_LOOP). */
  bigEndian: boolean;
}

/**
 * Reads the family of a NULL header: host byte order of an unknown host, so a value that only
 * makes sense byte-swapped (non-zero upper half) is taken as little-endian.
 */
export function readNullFamily(buf: Uint8Array, off: number): { family: number; bigEndian: boolean } {
  const be = u32(buf, off);
  if ((be & 0xffff0000) !== 0) return { family: u32le(buf, off), bigEndian: false };
  return { family: be, bigEndian: true };
}

/** Parses a NULL (`loop` false) or LOOP (`loop` true) header. */
export function parseNull(buf: Buffer, off: number, len: number, loop = false): NullRepr {
  checkSpan(buf, off, len);
  if (len < NULL_HEADER_LENGTH) throw new PacketError('TRUNCATED', off, 'loopback header');
  if (loop) return { family: u32(buf, off), bigEndian: true };
  return readNullFamily(buf, off);
}

export function emitNull(repr: NullRepr, buf: Buffer, off: number): number {
  checkRoom(buf, off, NULL_HEADER_LENGTH);
  checkField(repr.family, 32, 'family', off);
  if (repr.bigEndian) put32(buf, off, repr.family);
  else put32le(buf, off, repr.family);
  return NULL_HEADER_LENGTH;
}
