// Reading and writing the protocol's basic fields: fixed little-endian integers, length-encoded
// integers and strings, and NUL-terminated strings. A Cursor walks one payload; every read checks
// the bounds and throws MysqlProtocolError with the offset, so the parsers above stay linear.
import { MysqlProtocolError } from './errors.js';

export interface Cursor {
  readonly buf: Buffer;
  pos: number;
}

export function cursor(buf: Buffer, pos = 0): Cursor {
  return { buf, pos };
}

export function remaining(c: Cursor): number {
  return c.buf.length - c.pos;
}

function need(c: Cursor, n: number, what: string): void {
  if (c.buf.length - c.pos < n) throw new MysqlProtocolError('TRUNCATED', c.pos, `${what} needs ${n} bytes`);
}

export function u8(c: Cursor, what = 'u8'): number {
  need(c, 1, what);
  return c.buf[c.pos++]!;
}

export function u16(c: Cursor, what = 'u16'): number {
  need(c, 2, what);
  const v = c.buf.readUInt16LE(c.pos);
  c.pos += 2;
  return v;
}

export function u32(c: Cursor, what = 'u32'): number {
  need(c, 4, what);
  const v = c.buf.readUInt32LE(c.pos);
  c.pos += 4;
  return v;
}

/** `n` bytes as a view into the payload (not a copy). */
export function fixed(c: Cursor, n: number, what = 'bytes'): Buffer {
  need(c, n, what);
  const v = c.buf.subarray(c.pos, c.pos + n);
  c.pos += n;
  return v;
}

/** Everything up to the end of the payload (a view). */
export function rest(c: Cursor): Buffer {
  const v = c.buf.subarray(c.pos);
  c.pos = c.buf.length;
  return v;
}

/**
 * A length-encoded integer: one byte below 0xfb, else 0xfc/0xfd/0xfe followed by 2/3/8 bytes. 0xfb
 * (NULL in rows) and 0xff (an ERR marker) are not integers here. A longer form than the value needs
 * is refused: no client writes one, and accepting it would break byte-identical re-encoding.
 */
export function lenenc(c: Cursor, what = 'length-encoded integer'): number {
  const at = c.pos;
  const first = u8(c, what);
  if (first < 0xfb) return first;
  let v: number;
  if (first === 0xfc) v = u16(c, what);
  else if (first === 0xfd) {
    need(c, 3, what);
    v = c.buf.readUIntLE(c.pos, 3);
    c.pos += 3;
  } else if (first === 0xfe) {
    need(c, 8, what);
    const big = c.buf.readBigUInt64LE(c.pos);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new MysqlProtocolError('UNSUPPORTED', at, `${what} above 2^53`);
    v = Number(big);
    c.pos += 8;
  } else throw new MysqlProtocolError('MALFORMED', at, `${what} starts with 0x${first.toString(16)}`);
  if (lenencSize(v) !== c.pos - at)
    throw new MysqlProtocolError('MALFORMED', at, `${what} in a longer form than needed`);
  return v;
}

/** A length-encoded string (a view). */
export function lenencBytes(c: Cursor, what = 'length-encoded string'): Buffer {
  const n = lenenc(c, what);
  return fixed(c, n, what);
}

/** A NUL-terminated string (a view, without the NUL); throws when no NUL follows. */
export function nulBytes(c: Cursor, what = 'NUL-terminated string'): Buffer {
  const end = c.buf.indexOf(0, c.pos);
  if (end < 0) throw new MysqlProtocolError('TRUNCATED', c.pos, `${what} has no NUL`);
  const v = c.buf.subarray(c.pos, end);
  c.pos = end + 1;
  return v;
}

/**
 * A string ended by NUL or by the end of the payload (servers tolerate a missing final NUL in the
 * last field of a login, and some clients leave it out). `terminated` says which it was.
 */
export function nulOrEndBytes(c: Cursor): { value: Buffer; terminated: boolean } {
  const end = c.buf.indexOf(0, c.pos);
  const stop = end < 0 ? c.buf.length : end;
  const value = c.buf.subarray(c.pos, stop);
  c.pos = end < 0 ? stop : stop + 1;
  return { value, terminated: end >= 0 };
}

/** Bytes a length-encoded integer of value `v` takes. */
export function lenencSize(v: number): number {
  return v < 0xfb ? 1 : v < 0x10000 ? 3 : v < 0x1000000 ? 4 : 9;
}

/** The length-encoded form of `v` (0 <= v <= 2^53). */
export function encodeLenenc(v: number): Buffer {
  if (!Number.isSafeInteger(v) || v < 0) throw new MysqlProtocolError('MALFORMED', -1, `length ${v} not encodable`);
  if (v < 0xfb) return Buffer.from([v]);
  if (v < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = 0xfc;
    b.writeUInt16LE(v, 1);
    return b;
  }
  if (v < 0x1000000) {
    const b = Buffer.alloc(4);
    b[0] = 0xfd;
    b.writeUIntLE(v, 1, 3);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(v), 1);
  return b;
}

export function u16Bytes(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}

export function u32Bytes(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
