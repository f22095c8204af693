// pcapng writing: pure encoders for the Section Header Block, Interface Description Blocks (always
// if_tsresol = 9, i.e. ns) and Enhanced Packet Blocks (optional epb_flags), all little-endian, and
// PcapngWriter, which streams them to a Node Writable.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CaptureWriteError } from './errors.js';
import {
  BlockType,
  DEFAULT_SNAPLEN,
  EPB_DIRECTION_INBOUND,
  EPB_DIRECTION_OUTBOUND,
  EPB_FLAGS,
  IF_DESCRIPTION,
  IF_NAME,
  IF_TSRESOL,
  OPT_COMMENT,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_VERSION_MAJOR,
  PCAPNG_VERSION_MINOR,
  SHB_HARDWARE,
  SHB_OS,
  SHB_USERAPPL,
  TSRESOL_NS,
} from './format.js';
import { SinkWriter } from './sink.js';
import type { PacketToWrite } from './types.js';

export interface PcapngInterfaceOptions {
  /** LINKTYPE_* (0..65535). */
  linkType: number;
  /** Default 262144; 0 means no limit. */
  snaplen?: number;
  /** if_name. */
  name?: string;
  /** if_description. */
  description?: string;
}

export interface PcapngSectionOptions {
  /** shb_userappl (default "tcpcopy"). */
  userAppl?: string;
  /** shb_hardware. */
  hardware?: string;
  /** shb_os. */
  os?: string;
  /** opt_comment on the section. */
  comment?: string;
}

export interface PcapngWriterOptions extends PcapngSectionOptions {
  /** Interfaces declared up front (ids 0, 1, ...); more can be added with addInterface(). */
  interfaces: PcapngInterfaceOptions[];
  /** Staging buffer size (default 256 KiB). */
  bufferSize?: number;
}

const EPB_FIXED = 32; // type, length, interface, ts high, ts low, caplen, origlen, trailing length
const EPB_FLAGS_OPTION_BYTES = 12; // epb_flags (4 + 4) + opt_endofopt (4)
const U64_MAX = (1n << 64n) - 1n;

const pad4 = (n: number): number => (n + 3) & ~3;

type Option = [code: number, value: Buffer];

function stringOption(code: number, value: string | undefined, out: Option[]): void {
  if (value === undefined) return;
  const b = Buffer.from(value, 'utf8');
  if (b.length > 0xffff) throw new CaptureWriteError('BAD_OPTION', `option ${code} is longer than 65535 bytes`);
  out.push([code, b]);
}

function optionsLength(opts: Option[]): number {
  if (opts.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const [, v] of opts) n += 4 + pad4(v.length);
  return n;
}

function writeOptions(b: Buffer, at: number, opts: Option[]): number {
  if (opts.length === 0) return at;
  for (const [code, v] of opts) {
    b.writeUInt16LE(code, at);
    b.writeUInt16LE(v.length, at + 2);
    v.copy(b, at + 4);
    b.fill(0, at + 4 + v.length, at + 4 + pad4(v.length));
    at += 4 + pad4(v.length);
  }
  b.writeUInt32LE(0, at); // opt_endofopt
  return at + 4;
}

function block(type: number, body: Buffer, opts: Option[]): Buffer {
  const len = 8 + pad4(body.length) + optionsLength(opts) + 4;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  writeOptions(b, 8 + pad4(body.length), opts);
  b.writeUInt32LE(len, len - 4);
  return b;
}

/** A little-endian Section Header Block (version 1.0, section length unknown). */
export function encodeSectionHeaderBlock(opts: PcapngSectionOptions = {}): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(PCAPNG_BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(PCAPNG_VERSION_MAJOR, 4);
  body.writeUInt16LE(PCAPNG_VERSION_MINOR, 6);
  body.writeBigInt64LE(-1n, 8);
  const options: Option[] = [];
  stringOption(OPT_COMMENT, opts.comment, options);
  stringOption(SHB_HARDWARE, opts.hardware, options);
  stringOption(SHB_OS, opts.os, options);
  stringOption(SHB_USERAPPL, opts.userAppl ?? 'tcpcopy', options);
  return block(BlockType.SHB, body, options);
}

/** An Interface Description Block with if_tsresol = 9 (ns) and the given name/description. */
export function encodeInterfaceDescriptionBlock(iface: PcapngInterfaceOptions): Buffer {
  const snaplen = iface.snaplen ?? DEFAULT_SNAPLEN;
  if (!Number.isInteger(iface.linkType) || iface.linkType < 0 || iface.linkType > 0xffff) {
    throw new CaptureWriteError('BAD_OPTION', `link type ${iface.linkType} is not a 16-bit value`);
  }
  if (!Number.isInteger(snaplen) || snaplen < 0 || snaplen > 0xffffffff)
    throw new CaptureWriteError('BAD_OPTION', `snaplen ${snaplen} is invalid`);
  const body = Buffer.alloc(8);
  body.writeUInt16LE(iface.linkType, 0);
  body.writeUInt32LE(snaplen, 4);
  const options: Option[] = [];
  stringOption(IF_NAME, iface.name, options);
  stringOption(IF_DESCRIPTION, iface.description, options);
  options.push([IF_TSRESOL, Buffer.from([TSRESOL_NS])]);
  return block(BlockType.IDB, body, options);
}

function caplenFor(p: PacketToWrite, snaplen: number): number {
  const n = p.data.length;
  return snaplen !== 0 && n > snaplen ? snaplen : n;
}

function flagsOf(p: PacketToWrite): number | undefined {
  const dir =
    p.direction === undefined ? 0 : p.direction === 'inbound' ? EPB_DIRECTION_INBOUND : EPB_DIRECTION_OUTBOUND;
  if (p.epbFlags === undefined) return dir === 0 ? undefined : dir;
  return (p.epbFlags | dir) >>> 0;
}

/** Bytes an Enhanced Packet Block for `p` takes. */
export function enhancedPacketBlockLength(p: PacketToWrite, snaplen: number = DEFAULT_SNAPLEN): number {
  return EPB_FIXED + pad4(caplenFor(p, snaplen)) + (flagsOf(p) !== undefined ? EPB_FLAGS_OPTION_BYTES : 0);
}

/**
 * Encodes one Enhanced Packet Block (timestamp in ns units) at target[offset]; returns the bytes written.
 * `snaplen` is that of the packet's interface; target must have enhancedPacketBlockLength() room.
 */
export function encodeEnhancedPacketBlockInto(
  target: Buffer,
  offset: number,
  p: PacketToWrite,
  snaplen: number = DEFAULT_SNAPLEN,
): number {
  const data = p.data;
  const caplen = caplenFor(p, snaplen);
  const origLen = p.origLen ?? data.length;
  if (!(origLen >= data.length && origLen <= 0xffffffff && Number.isInteger(origLen))) {
    throw new CaptureWriteError(
      'BAD_PACKET',
      `origLen ${origLen} must be an integer from the data length (${data.length}) to 2^32-1`,
    );
  }
  const ts = p.tsNs;
  if (ts < 0n || ts > U64_MAX) throw new CaptureWriteError('BAD_TIMESTAMP', `timestamp ${ts} ns is outside 0..2^64-1`);
  const flags = flagsOf(p);
  const padded = pad4(caplen);
  const len = EPB_FIXED + padded + (flags !== undefined ? EPB_FLAGS_OPTION_BYTES : 0);
  target.writeUInt32LE(BlockType.EPB, offset);
  target.writeUInt32LE(len, offset + 4);
  target.writeUInt32LE(p.interfaceId ?? 0, offset + 8);
  target.writeUInt32LE(Number(ts >> 32n), offset + 12);
  target.writeUInt32LE(Number(ts & 0xffffffffn), offset + 16);
  target.writeUInt32LE(caplen, offset + 20);
  target.writeUInt32LE(origLen, offset + 24);
  data.copy(target, offset + 28, 0, caplen);
  let at = offset + 28 + caplen;
  while (at < offset + 28 + padded) target[at++] = 0;
  if (flags !== undefined) {
    target.writeUInt16LE(EPB_FLAGS, at);
    target.writeUInt16LE(4, at + 2);
    target.writeUInt32LE(flags, at + 4);
    target.writeUInt32LE(0, at + 8); // opt_endofopt
    at += EPB_FLAGS_OPTION_BYTES;
  }
  target.writeUInt32LE(len, at);
  return len;
}

/** One Enhanced Packet Block as a new Buffer. */
export function encodeEnhancedPacketBlock(p: PacketToWrite, snaplen: number = DEFAULT_SNAPLEN): Buffer {
  const b = Buffer.allocUnsafe(enhancedPacketBlockLength(p, snaplen));
  encodeEnhancedPacketBlockInto(b, 0, p, snaplen);
  return b;
}

/**
 * Writes a pcapng file (one section) to a Writable. write() stages blocks in memory and hands ~256 KiB
 * at a time to the stream; it returns false when the stream wants the producer to wait: then
 * `await writer.drain()`. flush() pushes staged blocks out early; close() ends the stream.
 */
export class PcapngWriter extends SinkWriter {
  private readonly snaplens: number[] = [];

  constructor(stream: Writable, opts: PcapngWriterOptions) {
    const shb = encodeSectionHeaderBlock(opts);
    const idbs = opts.interfaces.map((i) => encodeInterfaceDescriptionBlock(i));
    super(stream, opts.bufferSize);
    this.put(shb);
    for (let i = 0; i < idbs.length; i++) {
      this.put(idbs[i] as Buffer);
      this.snaplens.push(opts.interfaces[i]?.snaplen ?? DEFAULT_SNAPLEN);
    }
  }

  /** Number of interfaces declared. */
  get interfaces(): number {
    return this.snaplens.length;
  }

  /** Declares another interface (writes its IDB now) and returns its id. */
  addInterface(iface: PcapngInterfaceOptions): number {
    this.put(encodeInterfaceDescriptionBlock(iface));
    this.snaplens.push(iface.snaplen ?? DEFAULT_SNAPLEN);
    return this.snaplens.length - 1;
  }

  /** Stages one packet; false means "await drain() before writing more". Throws CaptureWriteError. */
  write(p: PacketToWrite): boolean {
    const id = p.interfaceId ?? 0;
    const snaplen = this.snaplens[id];
    if (snaplen === undefined) {
      throw new CaptureWriteError(
        'BAD_INTERFACE',
        `interface ${id} was not declared (${this.snaplens.length} interfaces)`,
      );
    }
    const sink = this.sink;
    const at = sink.reserve(enhancedPacketBlockLength(p, snaplen));
    sink.len += encodeEnhancedPacketBlockInto(sink.buf, at, p, snaplen);
    this.count++;
    return sink.ready;
  }

  private put(b: Buffer): void {
    const at = this.sink.reserve(b.length);
    b.copy(this.sink.buf, at);
    this.sink.len += b.length;
  }
}

/** Creates (truncates) the file at `path` and returns a PcapngWriter on it once the file is open. */
export async function openPcapngWriter(path: string, opts: PcapngWriterOptions): Promise<PcapngWriter> {
  encodeSectionHeaderBlock(opts); // validate before creating the file
  for (const i of opts.interfaces) encodeInterfaceDescriptionBlock(i);
  const stream = createWriteStream(path);
  await once(stream, 'open');
  return new PcapngWriter(stream, opts);
}
