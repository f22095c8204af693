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
import type { BatchBuilder } from './batch-builder.js';
import type { CaptureFileInfo } from './types.js';
import { dataViewOf } from '../packet/buffer-view.js';

const NS_PER_SEC = 1_000_000_000n;
const NSEC_PER_SEC = 1e9;

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

  constructor(
    private readonly info: CaptureFileInfo,
    private readonly file: string | undefined,
    private readonly maxCaplen: number = DEFAULT_MAX_BLOCK_BYTES,
  ) {}

  pendingWhat(): string {
    if (!this.headerDone) return 'pcap file header';
    return this.need === PCAP_RECORD_HEADER_LEN ? 'packet record header' : 'packet record';
  }

  decode(buf: Buffer, pos: number, abs: number, out: BatchBuilder): number {
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
      let sec = dv.getUint32(pos, le);
      let nsec = nano ? dv.getUint32(pos + 4, le) : dv.getUint32(pos + 4, le) * 1000;
      if (nsec >= NSEC_PER_SEC) {
        // A fraction of a second or more (a writer's bug): it carries into the seconds.
        const carry = Math.floor(nsec / NSEC_PER_SEC);
        sec += carry;
        nsec -= carry * NSEC_PER_SEC;
      }
      out.add(buf, pos + PCAP_RECORD_HEADER_LEN, caplen, dv.getUint32(pos + 12, le), sec, nsec, linkType, 0);
      pos += total;
      count++;
    }
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
      throw new CaptureFileError(
        'BAD_VERSION',
        'unsupported pcap version',
        abs + 4,
        this.file,
        `${major}.${minor}, expected 2.x`,
      );
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
