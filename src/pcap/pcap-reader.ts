// Decoder for classic pcap files: the 24-byte file header (µs or ns magic, either byte order) and then
// 16-byte record headers each followed by caplen bytes of packet data.

import { CaptureFileError } from './errors.js';
import type { FormatDecoder } from './decoder.js';
import {
  DEFAULT_MAX_BLOCK_BYTES,
  PCAP_FCS_PRESENT_BIT,
  PCAP_FILE_HEADER_LEN,
  PCAP_LINKTYPE_MASK,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_NS_SWAPPED,
  PCAP_MAGIC_US,
  PCAP_MAGIC_US_SWAPPED,
  PCAP_RECORD_HEADER_LEN,
  PCAP_VERSION_MAJOR,
} from './format.js';
import type { CaptureFileInfo, CapturedPacket } from './types.js';
import { dataViewOf, viewOf } from './view.js';

const NS_PER_SEC = 1_000_000_000n;

/** True when the 32-bit value (read little-endian) is one of the four pcap magics. */
export function isPcapMagic(magicLE: number): boolean {
  return (
    magicLE === PCAP_MAGIC_US ||
    magicLE === PCAP_MAGIC_NS ||
    magicLE === PCAP_MAGIC_US_SWAPPED ||
    magicLE === PCAP_MAGIC_NS_SWAPPED
  );
}

export class PcapDecoder implements FormatDecoder {
  need = PCAP_FILE_HEADER_LEN;
  private headerDone = false;
  private le = true;
  private nano = false;
  private linkType = 0;
  private lastSec = -1;
  private lastSecNs = 0n;

  constructor(
    private readonly info: CaptureFileInfo,
    private readonly file: string | undefined,
    private readonly maxCaplen: number = DEFAULT_MAX_BLOCK_BYTES,
  ) {}

  pendingWhat(): string {
    if (!this.headerDone) return 'pcap file header';
    return this.need === PCAP_RECORD_HEADER_LEN ? 'packet record header' : 'packet record';
  }

  decode(buf: Buffer, pos: number, abs: number, out: CapturedPacket[]): number {
    const start = pos;
    const end = buf.length;
    if (!this.headerDone) {
      if (end - pos < PCAP_FILE_HEADER_LEN) {
        this.need = PCAP_FILE_HEADER_LEN;
        return pos;
      }
      this.readHeader(buf, pos, abs);
      pos += PCAP_FILE_HEADER_LEN;
    }
    const le = this.le;
    const nano = this.nano;
    const linkType = this.linkType;
    const maxCaplen = this.maxCaplen;
    const dv = dataViewOf(buf);
    // Timestamps of consecutive packets mostly share the second: convert it to BigInt once.
    let lastSec = this.lastSec;
    let lastSecNs = this.lastSecNs;
    let count = 0;
    for (;;) {
      if (end - pos < PCAP_RECORD_HEADER_LEN) {
        this.need = PCAP_RECORD_HEADER_LEN;
        break;
      }
      const caplen = dv.getUint32(pos + 8, le);
      if (caplen > maxCaplen) {
        throw new CaptureFileError(
          'CAPLEN_EXCEEDS',
          'packet record with an implausible captured length',
          abs + (pos - start),
          this.file,
          `caplen ${caplen} > maximum ${maxCaplen}`,
        );
      }
      const total = PCAP_RECORD_HEADER_LEN + caplen;
      if (end - pos < total) {
        this.need = total;
        break;
      }
      const sec = dv.getUint32(pos, le);
      const frac = dv.getUint32(pos + 4, le);
      const origLen = dv.getUint32(pos + 12, le);
      if (sec !== lastSec) {
        lastSec = sec;
        lastSecNs = BigInt(sec) * NS_PER_SEC;
      }
      const tsNs = lastSecNs + BigInt(nano ? frac : frac * 1000);
      const data = viewOf(buf, pos + PCAP_RECORD_HEADER_LEN, caplen);
      out.push({ data, caplen, origLen, tsNs, linkType, interfaceId: 0, epbFlags: undefined });
      pos += total;
      count++;
    }
    this.lastSec = lastSec;
    this.lastSecNs = lastSecNs;
    this.info.packets += count;
    return pos;
  }

  private readHeader(buf: Buffer, pos: number, abs: number): void {
    const magic = buf.readUInt32LE(pos);
    switch (magic) {
      case PCAP_MAGIC_US:
        this.le = true;
        this.nano = false;
        break;
      case PCAP_MAGIC_NS:
        this.le = true;
        this.nano = true;
        break;
      case PCAP_MAGIC_US_SWAPPED:
        this.le = false;
        this.nano = false;
        break;
      case PCAP_MAGIC_NS_SWAPPED:
        this.le = false;
        this.nano = true;
        break;
      default:
        throw new CaptureFileError('BAD_MAGIC', 'unknown pcap magic', abs, this.file, `0x${magic.toString(16)}`);
    }
    const le = this.le;
    const major = le ? buf.readUInt16LE(pos + 4) : buf.readUInt16BE(pos + 4);
    const minor = le ? buf.readUInt16LE(pos + 6) : buf.readUInt16BE(pos + 6);
    if (major !== PCAP_VERSION_MAJOR) {
      throw new CaptureFileError('BAD_VERSION', 'unsupported pcap version', abs + 4, this.file, `${major}.${minor}, expected 2.x`);
    }
    const snaplen = le ? buf.readUInt32LE(pos + 16) : buf.readUInt32BE(pos + 16);
    const field = le ? buf.readUInt32LE(pos + 20) : buf.readUInt32BE(pos + 20);
    this.linkType = field & PCAP_LINKTYPE_MASK;
    const fcsBytes = (field & PCAP_FCS_PRESENT_BIT) !== 0 ? (field >>> 28) * 2 : undefined;
    const tsresol = this.nano ? 9 : 6;
    this.headerDone = true;
    const info = this.info;
    info.byteOrder = le ? 'LE' : 'BE';
    info.nanosecond = this.nano;
    info.sections.push({
      index: 0,
      offset: abs,
      byteOrder: info.byteOrder,
      versionMajor: major,
      versionMinor: minor,
      sectionLength: -1n,
      interfaceIds: [0],
    });
    info.interfaces.push({
      id: 0,
      section: 0,
      sectionInterfaceId: 0,
      linkType: this.linkType,
      snaplen,
      tsresol,
      unitsPerSecond: this.nano ? NS_PER_SEC : 1_000_000n,
      tsOffsetSec: 0n,
      fcsBytes,
    });
  }
}
