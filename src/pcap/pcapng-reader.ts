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
import type { BatchBuilder } from './batch-builder.js';
import type { CaptureFileInfo, CaptureInterface, CaptureSection } from './types.js';
import { dataViewOf } from '../packet/buffer-view.js';

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
  /** Units per second as a number when a unit is a whole number of ns (10^0..10^9, 2^0..2^9), else 0. */
  readonly unitsNum: number;
  /** Nanoseconds per unit when unitsNum > 0. */
  readonly mul: number;
  readonly offsetSec: bigint;
  /** Last high timestamp word seen (consecutive packets mostly share it), and for it: */
  lastHigh: number;
  /** whole seconds and leftover units of (high << 32) + if_tsoffset, when numbers hold them exactly. */
  highSec: number;
  highRem: number;
  /** Whether the number path applies to this high word. */
  highFast: boolean;
}

/** The packet's time in whole seconds and ns (set by PcapngDecoder.time). */
interface PacketTime {
  sec: number;
  nsec: number;
}

const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * Timestamp (high, low) of interface s into t. Numbers only (no bigint per packet) for the usual
 * resolutions; bigints for the exotic ones and for times past 2^53 s.
 */
function toTime(s: IfaceState, high: number, low: number, t: PacketTime): void {
  if (high !== s.lastHigh) {
    s.lastHigh = high;
    const base = BigInt(high) << 32n;
    const sec = base / s.units + s.offsetSec;
    s.highFast = s.unitsNum > 0 && sec >= -MAX_EXACT && sec <= MAX_EXACT - 0x1_0000_0000;
    s.highSec = Number(sec);
    s.highRem = Number(base % s.units);
  }
  if (s.highFast) {
    const u = s.unitsNum;
    const r = s.highRem + low;
    const q = Math.floor(r / u);
    t.sec = s.highSec + q;
    t.nsec = (r - q * u) * s.mul;
    return;
  }
  const ts = (BigInt(high) << 32n) + BigInt(low);
  // Same rounding as Wireshark: whole seconds, then the remainder truncated to ns.
  const secs = ts / s.units;
  const ns = secs * NS_PER_SEC + ((ts - secs * s.units) * NS_PER_SEC) / s.units + s.offsetSec * NS_PER_SEC;
  let sec = ns / NS_PER_SEC;
  if (ns < sec * NS_PER_SEC) sec -= 1n; // floor for times before the epoch
  t.sec = Number(sec);
  t.nsec = Number(ns - sec * NS_PER_SEC);
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
  /** The time of the packet being decoded (reused: no object per packet). */
  private readonly time: PacketTime = { sec: 0, nsec: 0 };

  constructor(
    private readonly info: CaptureFileInfo,
    private readonly file: string | undefined,
    private readonly maxBlockBytes: number = DEFAULT_MAX_BLOCK_BYTES,
  ) {}

  pendingWhat(): string {
    return this.pendingType < 0 ? 'block header' : blockName(this.pendingType);
  }

  decode(buf: Buffer, pos: number, abs: number, out: BatchBuilder): number {
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
          throw new CaptureFileError(
            'BAD_MAGIC',
            'Section Header Block with an unknown byte-order magic',
            at,
            this.file,
            `0x${magic.toString(16)}`,
          );
        }
      } else if (this.section === undefined) {
        throw new CaptureFileError(
          'BAD_MAGIC',
          'pcapng data does not start with a Section Header Block',
          at,
          this.file,
        );
      }
      const len = dv.getUint32(pos + 4, le);
      if (len < minLength(type) || (len & 3) !== 0 || len > this.maxBlockBytes) {
        const why =
          len < minLength(type)
            ? `below the minimum ${minLength(type)}`
            : (len & 3) !== 0
              ? 'not a multiple of 4'
              : `above the maximum ${this.maxBlockBytes}`;
        throw new CaptureFileError(
          'BAD_BLOCK_LENGTH',
          `${blockName(type)} with a bad length`,
          at,
          this.file,
          `length ${len} is ${why}`,
        );
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
          this.enhancedPacket(buf, pos, len, at, out);
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
          this.simplePacket(buf, pos, len, at, out);
          this.info.packets++;
          break;
        case BlockType.PB:
          this.obsoletePacket(buf, pos, len, at, out);
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
      throw new CaptureFileError(
        'BAD_INTERFACE',
        `${what} for an undeclared interface`,
        at,
        this.file,
        `interface ${id}, section has ${this.ifaces.length}`,
      );
    }
    return s;
  }

  private enhancedPacket(buf: Buffer, pos: number, len: number, at: number, out: BatchBuilder): void {
    this.timedPacket(buf, pos, len, at, this.dv.getUint32(pos + 8, this.le), EPB_MIN_LEN, 'Enhanced Packet Block', out);
  }

  /** The obsolete Packet Block: a u16 interface id (then drops count); its pack_flags match epb_flags. */
  private obsoletePacket(buf: Buffer, pos: number, len: number, at: number, out: BatchBuilder): void {
    this.timedPacket(buf, pos, len, at, this.dv.getUint16(pos + 8, this.le), PB_MIN_LEN, 'Packet Block', out);
  }

  /** EPB and PB share the layout from the timestamp on: ts high, ts low, caplen, origLen, data, options. */
  private timedPacket(
    buf: Buffer,
    pos: number,
    len: number,
    at: number,
    ifaceId: number,
    minLen: number,
    what: string,
    out: BatchBuilder,
  ): void {
    const dv = this.dv;
    const le = this.le;
    const s = this.iface(ifaceId, at, what);
    const high = dv.getUint32(pos + 12, le);
    const low = dv.getUint32(pos + 16, le);
    const caplen = dv.getUint32(pos + 20, le);
    const origLen = dv.getUint32(pos + 24, le);
    if (caplen > len - minLen) {
      throw new CaptureFileError(
        'CAPLEN_EXCEEDS',
        `${what} whose captured length exceeds the block`,
        at,
        this.file,
        `caplen ${caplen}, room ${len - minLen}`,
      );
    }
    const dataStart = pos + 28;
    const optStart = dataStart + ((caplen + 3) & ~3);
    const optEnd = pos + len - 4;
    const epbFlags = optStart < optEnd ? this.epbFlags(buf, optStart, optEnd, at + (optStart - pos)) : -1;
    const t = this.time;
    toTime(s, high, low, t);
    out.add(buf, dataStart, caplen, origLen, t.sec, t.nsec, s.linkType, s.gid, epbFlags);
  }

  /** A Simple Packet Block carries no timestamp: its time is 0. */
  private simplePacket(buf: Buffer, pos: number, len: number, at: number, out: BatchBuilder): void {
    const dv = this.dv;
    const s = this.iface(0, at, 'Simple Packet Block');
    const origLen = dv.getUint32(pos + 8, this.le);
    let caplen = Math.min(origLen, len - SPB_MIN_LEN);
    if (s.snaplen !== 0 && s.snaplen < caplen) caplen = s.snaplen;
    out.add(buf, pos + 12, caplen, origLen, 0, 0, s.linkType, s.gid);
  }

  /** The epb_flags option's value, −1 when absent. */
  private epbFlags(buf: Buffer, start: number, end: number, abs: number): number {
    const dv = this.dv;
    let flags = -1;
    this.forEachOption(buf, start, end, abs, (code, vpos, vlen, oabs) => {
      if (code === EPB_FLAGS) {
        if (vlen !== 4)
          throw new CaptureFileError(
            'BAD_OPTION',
            'epb_flags option with a bad length',
            oabs,
            this.file,
            `length ${vlen}, expected 4`,
          );
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
      throw new CaptureFileError(
        'BAD_VERSION',
        'unsupported pcapng section version',
        at,
        this.file,
        `${major}.${minor}, expected 1.x`,
      );
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
            throw new CaptureFileError(
              'BAD_OPTION',
              'if_tsresol option with a bad value',
              oabs,
              this.file,
              `length ${vlen}, value ${v}`,
            );
          }
          tsresol = v;
          break;
        }
        case IF_TSOFFSET:
          if (vlen !== 8)
            throw new CaptureFileError(
              'BAD_OPTION',
              'if_tsoffset option with a bad length',
              oabs,
              this.file,
              `length ${vlen}, expected 8`,
            );
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
    const whole = NS_PER_SEC % units === 0n;
    this.ifaces.push({
      gid,
      linkType,
      snaplen,
      units,
      unitsNum: whole ? Number(units) : 0,
      mul: whole ? Number(NS_PER_SEC / units) : 0,
      offsetSec: tsOffsetSec,
      lastHigh: -1,
      highSec: 0,
      highRem: 0,
      highFast: false,
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
        throw new CaptureFileError(
          'BAD_OPTION',
          'option runs past the end of its block',
          oabs,
          this.file,
          `code ${code}, length ${vlen}, room ${end - p - 4}`,
        );
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
