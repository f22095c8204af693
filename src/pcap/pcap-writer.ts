// Classic pcap writing: pure encoders for the file header and packet records (nanosecond magic
// a1b23c4d by default, little-endian), and PcapWriter, which streams them to a Node Writable.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CaptureWriteError } from './errors.js';
import {
  DEFAULT_SNAPLEN,
  PCAP_FILE_HEADER_LEN,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  PCAP_RECORD_HEADER_LEN,
  PCAP_VERSION_MAJOR,
  PCAP_VERSION_MINOR,
} from './format.js';
import { SinkWriter } from './sink.js';
import type { PacketToWrite } from './types.js';

const NS_PER_SEC = 1_000_000_000n;
const MAX_SEC = 0xffffffffn;

export interface PcapHeaderOptions {
  /** LINKTYPE_* of every packet (0..65535). */
  linkType: number;
  /** Default 262144. */
  snaplen?: number;
  /** Nanosecond magic (default true); false writes the microsecond magic. */
  nanosecond?: boolean;
}

export interface PcapWriterOptions extends PcapHeaderOptions {
  /** Staging buffer size (default 256 KiB). */
  bufferSize?: number;
}

/** The 24-byte pcap file header. */
export function encodePcapHeader(opts: PcapHeaderOptions): Buffer {
  const snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
  if (!Number.isInteger(opts.linkType) || opts.linkType < 0 || opts.linkType > 0xffff) {
    throw new CaptureWriteError('BAD_OPTION', `link type ${opts.linkType} is not a 16-bit value`);
  }
  if (!Number.isInteger(snaplen) || snaplen <= 0 || snaplen > 0xffffffff)
    throw new CaptureWriteError('BAD_OPTION', `snaplen ${snaplen} is invalid`);
  const b = Buffer.alloc(PCAP_FILE_HEADER_LEN);
  b.writeUInt32LE(opts.nanosecond === false ? PCAP_MAGIC_US : PCAP_MAGIC_NS, 0);
  b.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
  b.writeUInt16LE(PCAP_VERSION_MINOR, 6);
  // thiszone and sigfigs stay 0
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(opts.linkType, 20);
  return b;
}

/** Bytes a record for `p` takes (header plus data cut to snaplen). */
export function pcapRecordLength(p: PacketToWrite, snaplen: number = DEFAULT_SNAPLEN): number {
  return PCAP_RECORD_HEADER_LEN + Math.min(p.data.length, snaplen);
}

/** Encodes one record at target[offset]; returns the bytes written. target must have pcapRecordLength() room. */
export function encodePcapRecordInto(
  target: Buffer,
  offset: number,
  p: PacketToWrite,
  snaplen: number = DEFAULT_SNAPLEN,
  nanosecond = true,
): number {
  const data = p.data;
  const caplen = data.length < snaplen ? data.length : snaplen;
  const origLen = p.origLen ?? data.length;
  if (!(origLen >= data.length && origLen <= 0xffffffff && Number.isInteger(origLen))) {
    throw new CaptureWriteError(
      'BAD_PACKET',
      `origLen ${origLen} must be an integer from the data length (${data.length}) to 2^32-1`,
    );
  }
  if (p.interfaceId !== undefined && p.interfaceId !== 0) {
    throw new CaptureWriteError('BAD_INTERFACE', `pcap files have one interface; got interfaceId ${p.interfaceId}`);
  }
  const ts = p.tsNs;
  if (ts < 0n) throw new CaptureWriteError('BAD_TIMESTAMP', `negative timestamp ${ts} ns`);
  const secBig = ts / NS_PER_SEC;
  if (secBig > MAX_SEC)
    throw new CaptureWriteError('BAD_TIMESTAMP', `timestamp ${ts} ns is beyond pcap's 32-bit seconds`);
  const ns = Number(ts - secBig * NS_PER_SEC);
  target.writeUInt32LE(Number(secBig), offset);
  target.writeUInt32LE(nanosecond ? ns : Math.floor(ns / 1000), offset + 4);
  target.writeUInt32LE(caplen, offset + 8);
  target.writeUInt32LE(origLen, offset + 12);
  data.copy(target, offset + PCAP_RECORD_HEADER_LEN, 0, caplen);
  return PCAP_RECORD_HEADER_LEN + caplen;
}

/** One pcap record as a new Buffer. */
export function encodePcapRecord(p: PacketToWrite, snaplen: number = DEFAULT_SNAPLEN, nanosecond = true): Buffer {
  const b = Buffer.allocUnsafe(pcapRecordLength(p, snaplen));
  encodePcapRecordInto(b, 0, p, snaplen, nanosecond);
  return b;
}

/**
 * Writes a pcap file to a Writable. write() stages records in memory and hands ~256 KiB at a time to the
 * stream; it returns false when the stream wants the producer to wait: then `await writer.drain()`.
 * Call flush() to push staged records out early (e.g. on a timer for live captures), close() at the end.
 */
export class PcapWriter extends SinkWriter {
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanosecond: boolean;

  constructor(stream: Writable, opts: PcapWriterOptions) {
    const header = encodePcapHeader(opts);
    super(stream, opts.bufferSize);
    this.linkType = opts.linkType;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    this.nanosecond = opts.nanosecond !== false;
    const at = this.sink.reserve(header.length);
    header.copy(this.sink.buf, at);
    this.sink.len += header.length;
  }

  /** Stages one packet; false means "await drain() before writing more". Throws CaptureWriteError. */
  write(p: PacketToWrite): boolean {
    const sink = this.sink;
    const at = sink.reserve(pcapRecordLength(p, this.snaplen));
    sink.len += encodePcapRecordInto(sink.buf, at, p, this.snaplen, this.nanosecond);
    this.count++;
    return sink.ready;
  }
}

/** Creates (truncates) the file at `path` and returns a PcapWriter on it once the file is open. */
export async function openPcapWriter(path: string, opts: PcapWriterOptions): Promise<PcapWriter> {
  encodePcapHeader(opts); // validate before creating the file
  const stream = createWriteStream(path);
  await once(stream, 'open');
  return new PcapWriter(stream, opts);
}
