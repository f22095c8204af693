// Small bounds-free big-endian readers/writers over Uint8Array plus emit-time field validation.
// Callers check lengths first; these never throw on their own.

import { PacketError } from './errors.js';

export function u16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function u32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function u32le(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

export function put16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function put32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

export function put32le(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = v >>> 24;
}

/** Throws BAD_FIELD unless `value` is an integer in [0, 2^bits). */
export function checkField(value: number, bits: number, name: string, off: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new PacketError('BAD_FIELD', off, `${name} = ${value} does not fit in ${bits} bits`);
  }
}

/** Throws BUFFER_TOO_SMALL unless `need` bytes fit in `buf` at `off`. */
export function checkRoom(buf: Uint8Array, off: number, need: number): void {
  if (!Number.isInteger(off) || off < 0 || off + need > buf.length) {
    throw new PacketError('BUFFER_TOO_SMALL', off, `need ${need} bytes, buffer has ${Math.max(0, buf.length - off)}`);
  }
}

/** Throws TRUNCATED unless `off`/`len` lie inside `buf` (validates parser arguments). */
export function checkSpan(buf: Uint8Array, off: number, len: number): void {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > buf.length) {
    throw new PacketError('TRUNCATED', off, `span ${off}+${len} outside a buffer of ${buf.length} bytes`);
  }
}
