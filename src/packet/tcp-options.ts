// TCP options: the TcpOption union with parse/emit for the Repr, plus an allocation-free walker
// and a reusable summary object for the hot path.

import { checkField, checkRoom, checkSpan, put16, put32, u16, u32 } from './bytes.js';
import { PacketError } from './errors.js';

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

export interface SackBlock {
  left: number;
  right: number;
}

export type TcpOption =
  /** End of option list; `padding` holds the bytes after it up to the end of the header (verbatim). */
  | { kind: 'eol'; padding?: Buffer }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: SackBlock[] }
  | { kind: 'timestamps'; tsval: number; tsecr: number }
  /** Any other option, or a known kind with an unexpected length: kind byte and data after the length byte. */
  | { kind: 'unknown'; type: number; data: Buffer };

/** Bytes one option occupies on the wire. */
export function tcpOptionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
      return 1 + (o.padding?.length ?? 0);
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackPermitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'unknown':
      return 2 + o.data.length;
  }
}

/** Bytes the option list occupies (before padding to a multiple of 4). */
export function tcpOptionsLength(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) n += tcpOptionLength(o);
  return n;
}

/**
 * Bytes the option at `p` spans in an option area ending at `end` (`p < end`): 1 for NOP, the rest
 * of the area for EOL (what follows it is padding), the length byte for the others; 0 when the
 * option is malformed (no length byte, a length below 2, or past `end`). Every reader of option
 * bytes steps through an area with this, so the framing rules live here only.
 */
export function tcpOptionSpan(buf: Uint8Array, p: number, end: number): number {
  const kind = buf[p]!;
  if (kind === 0) return end - p;
  if (kind === 1) return 1;
  if (p + 1 >= end) return 0;
  const olen = buf[p + 1]!;
  return olen < 2 || p + olen > end ? 0 : olen;
}

/**
 * Walks the options in `buf[off, off+len)` (the caller guarantees the range is inside `buf`) without allocating,
 * calling `visit(kind, dataOff,
 * dataLen)` for every option except EOL/NOP (dataOff is absolute, after the length byte). Stops
 * at EOL. Returns -1 when well formed, else the absolute offset of the bad option.
 */
export function walkTcpOptions(
  buf: Uint8Array,
  off: number,
  len: number,
  visit: (kind: number, dataOff: number, dataLen: number) => void,
): number {
  const end = off + len;
  for (let p = off, n = 0; p < end; p += n) {
    n = tcpOptionSpan(buf, p, end);
    if (n === 0) return p;
    const kind = buf[p]!;
    if (kind > 1) visit(kind, p + 2, n - 2);
  }
  return -1;
}

/** Parses an option area into TcpOption objects; throws BAD_OPTION on an impossible length. */
export function parseTcpOptions(buf: Buffer, off: number, len: number): TcpOption[] {
  checkSpan(buf, off, len);
  const out: TcpOption[] = [];
  const end = off + len;
  for (let p = off, olen = 0; p < end; p += olen) {
    olen = tcpOptionSpan(buf, p, end);
    const kind = buf[p]!;
    if (olen === 0) {
      const detail = p + 1 >= end ? 'has no length byte' : `with length ${buf[p + 1]!}`;
      throw new PacketError('BAD_OPTION', p, `option ${kind} ${detail}`);
    }
    if (kind === 0) {
      out.push({ kind: 'eol', padding: Buffer.from(buf.subarray(p + 1, end)) });
      continue;
    }
    if (kind === 1) {
      out.push({ kind: 'nop' });
      continue;
    }
    const d = p + 2;
    if (kind === 2 && olen === 4) out.push({ kind: 'mss', value: u16(buf, d) });
    else if (kind === 3 && olen === 3) out.push({ kind: 'wscale', shift: buf[d]! });
    else if (kind === 4 && olen === 2) out.push({ kind: 'sackPermitted' });
    else if (kind === 5 && olen >= 10 && (olen - 2) % 8 === 0) {
      const blocks: SackBlock[] = [];
      for (let q = d; q < p + olen; q += 8) blocks.push({ left: u32(buf, q), right: u32(buf, q + 4) });
      out.push({ kind: 'sack', blocks });
    } else if (kind === 8 && olen === 10) out.push({ kind: 'timestamps', tsval: u32(buf, d), tsecr: u32(buf, d + 4) });
    else out.push({ kind: 'unknown', type: kind, data: Buffer.from(buf.subarray(d, p + olen)) });
  }
  return out;
}

/** Writes the options at `off` (no padding); returns the bytes written. */
export function emitTcpOptions(options: readonly TcpOption[], buf: Buffer, off: number): number {
  checkRoom(buf, off, tcpOptionsLength(options));
  let p = off;
  for (const o of options) {
    checkTcpOption(o, p);
    p += writeTcpOption(o, buf, p);
  }
  return p - off;
}

/** Throws unless the values of `o` (to be written at `p`) fit their fields. */
function checkTcpOption(o: TcpOption, p: number): void {
  switch (o.kind) {
    case 'mss':
      checkField(o.value, 16, 'mss', p);
      break;
    case 'wscale':
      checkField(o.shift, 8, 'wscale', p);
      break;
    case 'sack':
      if (o.blocks.length < 1 || o.blocks.length > 4)
        throw new PacketError('BAD_OPTION', p, `${o.blocks.length} SACK blocks`);
      for (let i = 0; i < o.blocks.length; i++) {
        checkField(o.blocks[i]!.left, 32, 'sack.left', p + 2 + 8 * i);
        checkField(o.blocks[i]!.right, 32, 'sack.right', p + 6 + 8 * i);
      }
      break;
    case 'timestamps':
      checkField(o.tsval, 32, 'tsval', p + 2);
      checkField(o.tsecr, 32, 'tsecr', p + 6);
      break;
    case 'unknown':
      checkField(o.type, 8, 'option kind', p);
      if (o.type < 2 || o.data.length > 253)
        throw new PacketError('BAD_OPTION', p, `option kind ${o.type} with ${o.data.length} data bytes`);
      break;
    default:
      break;
  }
}

/**
 * Writes one option at `p` without checking its values (emitTcpOptions checks them first; the
 * segment writer trusts the options the engine makes); returns the bytes written.
 */
export function writeTcpOption(o: TcpOption, buf: Uint8Array, p: number): number {
  switch (o.kind) {
    case 'eol':
      buf[p] = 0;
      if (o.padding) buf.set(o.padding, p + 1);
      return 1 + (o.padding?.length ?? 0);
    case 'nop':
      buf[p] = 1;
      return 1;
    case 'mss':
      buf[p] = 2;
      buf[p + 1] = 4;
      put16(buf, p + 2, o.value);
      return 4;
    case 'wscale':
      buf[p] = 3;
      buf[p + 1] = 3;
      buf[p + 2] = o.shift;
      return 3;
    case 'sackPermitted':
      buf[p] = 4;
      buf[p + 1] = 2;
      return 2;
    case 'sack':
      buf[p] = 5;
      buf[p + 1] = 2 + 8 * o.blocks.length;
      for (let i = 0; i < o.blocks.length; i++) {
        put32(buf, p + 2 + 8 * i, o.blocks[i]!.left);
        put32(buf, p + 6 + 8 * i, o.blocks[i]!.right);
      }
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      buf[p] = 8;
      buf[p + 1] = 10;
      put32(buf, p + 2, o.tsval);
      put32(buf, p + 6, o.tsecr);
      return 10;
    case 'unknown':
      buf[p] = o.type;
      buf[p + 1] = 2 + o.data.length;
      buf.set(o.data, p + 2);
      return 2 + o.data.length;
  }
}

/** Reusable, allocation-free summary of the common options (fill with `readTcpOptionSummary`). */
export class TcpOptionSummary {
  /** MSS value, or -1 when absent. */
  mss = -1;
  /** Window scale shift, or -1 when absent. */
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsval = 0;
  tsecr = 0;
  /** Number of SACK blocks (0..4); edges in `sackBlocks` as left,right pairs. */
  sackBlockCount = 0;
  readonly sackBlocks = new Uint32Array(8);
  /** Options of other kinds seen. */
  unknownCount = 0;

  clear(): void {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsval = 0;
    this.tsecr = 0;
    this.sackBlockCount = 0;
    this.unknownCount = 0;
  }
}

/**
 * Fills `out` from the option area `buf[off, off+len)`. Returns -1 when well formed, else the
 * absolute offset of the malformed option (the summary then holds what came before it).
 */
export function readTcpOptionSummary(buf: Uint8Array, off: number, len: number, out: TcpOptionSummary): number {
  out.clear();
  const end = off + len;
  for (let p = off, olen = 0; p < end; p += olen) {
    olen = tcpOptionSpan(buf, p, end);
    if (olen === 0) return p;
    const kind = buf[p]!;
    const d = p + 2;
    if (kind <= 1) continue;
    if (kind === 2 && olen === 4) out.mss = u16(buf, d);
    else if (kind === 3 && olen === 3) out.windowScale = buf[d]!;
    else if (kind === 4 && olen === 2) out.sackPermitted = true;
    else if (kind === 8 && olen === 10) {
      out.hasTimestamps = true;
      out.tsval = u32(buf, d);
      out.tsecr = u32(buf, d + 4);
    } else if (kind === 5 && olen >= 10 && (olen - 2) % 8 === 0) {
      const n = Math.min(4, (olen - 2) >>> 3);
      for (let i = 0; i < n; i++) {
        out.sackBlocks[2 * i] = u32(buf, d + 8 * i);
        out.sackBlocks[2 * i + 1] = u32(buf, d + 8 * i + 4);
      }
      out.sackBlockCount = n;
    } else out.unknownCount++;
  }
  return -1;
}
