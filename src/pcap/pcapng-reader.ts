// Decoder for pcapng files: sections (each Section Header Block sets its own byte order), Interface
// Description Blocks (link type, snaplen, if_name, if_description, if_tsresol, if_tsoffset), Enhanced,
// Simple and obsolete Packet Blocks; every other block type is skipped by its length.

import { CaptureFileError } from './errors.js';
import type { FormatDecoder } from './decoder.js';
import {
  BlockType,
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_TSRESOL,
  EPB_FLAGS,
  EPB_MIN_LEN,
  IDB_MIN_LEN,
  IF_DESCRIPTION,
  IF_NAME,
  IF_TSOFFSET,
  IF_TSRESOL,
  MIN_BLOCK_LEN,
  OPT_ENDOFOPT,
  PB_MIN_LEN,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_BYTE_ORDER_MAGIC_SWAPPED,
  PCAPNG_VERSION_MAJOR,
  SHB_HARDWARE,
  SHB_MIN_LEN,
  SHB_OS,
  SHB_USERAPPL,
  SPB_MIN_LEN,
} from './format.js';
import type { CaptureFileInfo, CaptureInterface, CaptureSection, CapturedPacket } from './types.js';
import { dataViewOf, viewOf } from './view.js';

const NS_PER_SEC = 1_000_000_000n;

/** Units per second for an if_tsresol byte: 10^v, or 2^(v & 0x7f) when the high bit is set. */
export function unitsPerSecond(tsresol: number): bigint {
  return (tsresol & 0x80) !== 0 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
}

/** Per-interface state the packet path needs, precomputed once per Interface Description Block. */
interface IfaceState {
  readonly gid: number;
  readonly linkType: number;
  readonly snaplen: number;
  readonly units: bigint;
  /** Nanoseconds per unit when a unit is a whole number of ns (10^0..10^9), else 0n. */
  readonly mul: bigint;
  readonly offsetNs: bigint;
  /** Last high timestamp word seen and its value shifted (consecutive packets mostly share it). */
  lastHigh: number;
  lastHighBase: bigint;
}

function toNs(s: IfaceState, high: number, low: number): bigint {
  if (high !== s.lastHigh) {
    s.lastHigh = high;
    s.lastHighBase = BigInt(high) << 32n;
  }
  const ts = s.lastHighBase + BigInt(low);
  let ns: bigint;
  if (s.mul === 1n) ns = ts;
  else if (s.mul !== 0n) ns = ts * s.mul;
  else {
    // Same rounding as Wireshark: whole seconds, then the remainder truncated to ns.
    const secs = ts / s.units;
    ns = secs * NS_PER_SEC + ((ts - secs * s.units) * NS_PER_SEC) / s.units;
  }
  return s.offsetNs === 0n ? ns : ns + s.offsetNs;
}

function optString(buf: Buffer, start: number, len: number): string {
  let end = start + len;
  while (end > start && buf[end - 1] === 0) end--; // some writers NUL-terminate
  return buf.toString('utf8', start, end);
}

function blockName(type: number): string {
  switch (type) {
    case BlockType.SHB:
      return 'Section Header Block';
    case BlockType.IDB:
      return 'Interface Description Block';
    case BlockType.EPB:
      return 'Enhanced Packet Block';
    case BlockType.SPB:
      return 'Simple Packet Block';
    case BlockType.PB:
      return 'Packet Block';
    default:
      return `block of type 0x${type.toString(16)}`;
  }
}

function minLength(type: number): number {
  switch (type) {
    case BlockType.SHB:
      return SHB_MIN_LEN;
    case BlockType.IDB:
      return IDB_MIN_LEN;
    case BlockType.EPB:
      return EPB_MIN_LEN;
    case BlockType.SPB:
      return SPB_MIN_LEN;
    case BlockType.PB:
      return PB_MIN_LEN;
    default:
      return MIN_BLOCK_LEN;
  }
}

export class PcapngDecoder implements FormatDecoder {
  need = MIN_BLOCK_LEN;
  private le = true;
  private section: CaptureSection | undefined;
  private ifaces: IfaceState[] = [];
  /** Type of the block whose bytes are still incomplete (for truncation messages). */
  private pendingType = -1;
  /** DataView over the buffer decode() is working on. */
  private dv: DataView = new DataView(new ArrayBuffer(0));

  constructor(
    private readonly info: CaptureFileInfo,
    private readonly file: string | undefined,
    private readonly maxBlockBytes: number = DEFAULT_MAX_BLOCK_BYTES,
  ) {}

  pendingWhat(): string {
    return this.pendingType < 0 ? 'block header' : blockName(this.pendingType);
  }

  decode(buf: Buffer, pos: number, abs: number, out: CapturedPacket[]): number {
    const start = pos;
    const end = buf.length;
    const dv = dataViewOf(buf);
    this.dv = dv;
    for (;;) {
      if (end - pos < MIN_BLOCK_LEN) {
        this.need = MIN_BLOCK_LEN;
        this.pendingType = -1;
        return pos;
      }
      const at = abs + (pos - start);
      let le = this.le;
      const type = dv.getUint32(pos, le);
      if (type === BlockType.SHB) {
        // The type is a palindrome; the byte-order magic after the length decides the section's order.
        const magic = buf.readUInt32LE(pos + 8);
        if (magic === PCAPNG_BYTE_ORDER_MAGIC) le = true;
        else if (magic === PCAPNG_BYTE_ORDER_MAGIC_SWAPPED) le = false;
        else {
          throw new CaptureFileError('BAD_MAGIC', 'Section Header Block with an unknown byte-order magic', at, this.file, `0x${magic.toString(16)}`);
        }
      } else if (this.section === undefined) {
        throw new CaptureFileError('BAD_MAGIC', 'pcapng data does not start with a Section Header Block', at, this.file);
      }
      const len = dv.getUint32(pos + 4, le);
      if (len < minLength(type) || (len & 3) !== 0 || len > this.maxBlockBytes) {
        const why =
          len < minLength(type) ? `below the minimum ${minLength(type)}` : (len & 3) !== 0 ? 'not a multiple of 4' : `above the maximum ${this.maxBlockBytes}`;
        throw new CaptureFileError('BAD_BLOCK_LENGTH', `${blockName(type)} with a bad length`, at, this.file, `length ${len} is ${why}`);
      }
      if (end - pos < len) {
        this.need = len;
        this.pendingType = type;
        return pos;
      }
      const trailer = dv.getUint32(pos + len - 4, le);
      if (trailer !== len) {
        throw new CaptureFileError(
          'BAD_BLOCK_LENGTH',
          `${blockName(type)} whose trailing length differs from its length`,
          at,
          this.file,
          `leading ${len}, trailing ${trailer}`,
        );
      }
      switch (type) {
        case BlockType.EPB:
          out.push(this.enhancedPacket(buf, pos, len, at));
          this.info.packets++;
          break;
        case BlockType.SHB:
          this.le = le;
          this.sectionHeader(buf, pos, len, at);
          break;
        case BlockType.IDB:
          this.interfaceDescription(buf, pos, len, at);
          break;
        case BlockType.SPB:
          out.push(this.simplePacket(buf, pos, len, at));
          this.info.packets++;
          break;
        case BlockType.PB:
          out.push(this.obsoletePacket(buf, pos, len, at));
          this.info.packets++;
          break;
        default:
          // NRB, ISB, DSB, custom and unknown blocks carry no packets: skip them by length.
          this.info.skippedBlocks++;
      }
      pos += len;
    }
  }

  private iface(id: number, at: number, what: string): IfaceState {
    const s = this.ifaces[id];
    if (s === undefined) {
      throw new CaptureFileError('BAD_INTERFACE', `${what} for an undeclared interface`, at, this.file, `interface ${id}, section has ${this.ifaces.length}`);
    }
    return s;
  }

  private enhancedPacket(buf: Buffer, pos: number, len: number, at: number): CapturedPacket {
    return this.timedPacket(buf, pos, len, at, this.dv.getUint32(pos + 8, this.le), EPB_MIN_LEN, 'Enhanced Packet Block');
  }

  /** The obsolete Packet Block: a u16 interface id (then drops count); its pack_flags match epb_flags. */
  private obsoletePacket(buf: Buffer, pos: number, len: number, at: number): CapturedPacket {
    return this.timedPacket(buf, pos, len, at, this.dv.getUint16(pos + 8, this.le), PB_MIN_LEN, 'Packet Block');
  }

  /** EPB and PB share the layout from the timestamp on: ts high, ts low, caplen, origLen, data, options. */
  private timedPacket(buf: Buffer, pos: number, len: number, at: number, ifaceId: number, minLen: number, what: string): CapturedPacket {
    const dv = this.dv;
    const le = this.le;
    const s = this.iface(ifaceId, at, what);
    const high = dv.getUint32(pos + 12, le);
    const low = dv.getUint32(pos + 16, le);
    const caplen = dv.getUint32(pos + 20, le);
    const origLen = dv.getUint32(pos + 24, le);
    if (caplen > len - minLen) {
      throw new CaptureFileError('CAPLEN_EXCEEDS', `${what} whose captured length exceeds the block`, at, this.file, `caplen ${caplen}, room ${len - minLen}`);
    }
    const dataStart = pos + 28;
    const optStart = dataStart + ((caplen + 3) & ~3);
    const optEnd = pos + len - 4;
    let epbFlags: number | undefined;
    if (optStart < optEnd) epbFlags = this.epbFlags(buf, optStart, optEnd, at + (optStart - pos));
    return {
      data: viewOf(buf, dataStart, caplen),
      caplen,
      origLen,
      tsNs: toNs(s, high, low),
      linkType: s.linkType,
      interfaceId: s.gid,
      epbFlags,
    };
  }

  private simplePacket(buf: Buffer, pos: number, len: number, at: number): CapturedPacket {
    const dv = this.dv;
    const s = this.iface(0, at, 'Simple Packet Block');
    const origLen = dv.getUint32(pos + 8, this.le);
    let caplen = Math.min(origLen, len - SPB_MIN_LEN);
    if (s.snaplen !== 0 && s.snaplen < caplen) caplen = s.snaplen;
    return {
      data: viewOf(buf, pos + 12, caplen),
      caplen,
      origLen,
      tsNs: 0n,
      linkType: s.linkType,
      interfaceId: s.gid,
      epbFlags: undefined,
    };
  }

  private epbFlags(buf: Buffer, start: number, end: number, abs: number): number | undefined {
    const dv = this.dv;
    let flags: number | undefined;
    this.forEachOption(buf, start, end, abs, (code, vpos, vlen, oabs) => {
      if (code === EPB_FLAGS) {
        if (vlen !== 4) throw new CaptureFileError('BAD_OPTION', 'epb_flags option with a bad length', oabs, this.file, `length ${vlen}, expected 4`);
        flags = dv.getUint32(vpos, this.le);
      }
    });
    return flags;
  }

  private sectionHeader(buf: Buffer, pos: number, len: number, at: number): void {
    const dv = this.dv;
    const le = this.le;
    const major = dv.getUint16(pos + 12, le);
    const minor = dv.getUint16(pos + 14, le);
    if (major !== PCAPNG_VERSION_MAJOR) {
      throw new CaptureFileError('BAD_VERSION', 'unsupported pcapng section version', at, this.file, `${major}.${minor}, expected 1.x`);
    }
    const sectionLength = dv.getBigInt64(pos + 16, le);
    const info = this.info;
    const section: CaptureSection = {
      index: info.sections.length,
      offset: at,
      byteOrder: le ? 'LE' : 'BE',
      versionMajor: major,
      versionMinor: minor,
      sectionLength,
      interfaceIds: [],
    };
    this.forEachOption(buf, pos + 24, pos + len - 4, at + 24, (code, vpos, vlen) => {
      if (code === SHB_HARDWARE) section.hardware = optString(buf, vpos, vlen);
      else if (code === SHB_OS) section.os = optString(buf, vpos, vlen);
      else if (code === SHB_USERAPPL) section.userAppl = optString(buf, vpos, vlen);
    });
    if (info.sections.length === 0) info.byteOrder = section.byteOrder;
    info.sections.push(section);
    this.section = section;
    this.ifaces = [];
  }

  private interfaceDescription(buf: Buffer, pos: number, len: number, at: number): void {
    const dv = this.dv;
    const le = this.le;
    const section = this.section;
    if (section === undefined) return; // unreachable: decode() requires a section first
    const linkType = dv.getUint16(pos + 8, le);
    const snaplen = dv.getUint32(pos + 12, le);
    let name: string | undefined;
    let description: string | undefined;
    let tsresol = DEFAULT_TSRESOL;
    let tsOffsetSec = 0n;
    this.forEachOption(buf, pos + 16, pos + len - 4, at + 16, (code, vpos, vlen, oabs) => {
      switch (code) {
        case IF_NAME:
          name = optString(buf, vpos, vlen);
          break;
        case IF_DESCRIPTION:
          description = optString(buf, vpos, vlen);
          break;
        case IF_TSRESOL: {
          const v = buf[vpos] ?? 0;
          // Finer than 2^-63 s or 10^-19 s, a 64-bit count could not hold even one second: refuse.
          if (vlen !== 1 || ((v & 0x80) !== 0 ? (v & 0x7f) > 63 : v > 19)) {
            throw new CaptureFileError('BAD_OPTION', 'if_tsresol option with a bad value', oabs, this.file, `length ${vlen}, value ${v}`);
          }
          tsresol = v;
          break;
        }
        case IF_TSOFFSET:
          if (vlen !== 8) throw new CaptureFileError('BAD_OPTION', 'if_tsoffset option with a bad length', oabs, this.file, `length ${vlen}, expected 8`);
          tsOffsetSec = dv.getBigInt64(vpos, le);
          break;
      }
    });
    const units = unitsPerSecond(tsresol);
    const gid = this.info.interfaces.length;
    const iface: CaptureInterface = {
      id: gid,
      section: section.index,
      sectionInterfaceId: this.ifaces.length,
      linkType,
      snaplen,
      name,
      description,
      tsresol,
      unitsPerSecond: units,
      tsOffsetSec,
    };
    this.info.interfaces.push(iface);
    section.interfaceIds.push(gid);
    this.ifaces.push({
      gid,
      linkType,
      snaplen,
      units,
      mul: NS_PER_SEC % units === 0n ? NS_PER_SEC / units : 0n,
      offsetNs: tsOffsetSec * NS_PER_SEC,
      lastHigh: -1,
      lastHighBase: 0n,
    });
  }

  /** Calls fn for each option in buf[start, end) until opt_endofopt. */
  private forEachOption(
    buf: Buffer,
    start: number,
    end: number,
    abs: number,
    fn: (code: number, valuePos: number, valueLen: number, optionOffset: number) => void,
  ): void {
    const le = this.le;
    const dv = this.dv;
    let p = start;
    while (end - p >= 4) {
      const code = dv.getUint16(p, le);
      const vlen = dv.getUint16(p + 2, le);
      if (code === OPT_ENDOFOPT) return;
      const oabs = abs + (p - start);
      if (p + 4 + vlen > end) {
        throw new CaptureFileError('BAD_OPTION', 'option runs past the end of its block', oabs, this.file, `code ${code}, length ${vlen}, room ${end - p - 4}`);
      }
      fn(code, p + 4, vlen, oabs);
      p += 4 + ((vlen + 3) & ~3);
    }
  }
}

/** The direction in epb_flags bits 0-1, if recorded. */
export function epbDirection(flags: number | undefined): 'inbound' | 'outbound' | undefined {
  if (flags === undefined) return undefined;
  const d = flags & 3;
  return d === 1 ? 'inbound' : d === 2 ? 'outbound' : undefined;
}
