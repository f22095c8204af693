// The captured-packet type of every source: a zero-copy view over a batch of captured packets, as a
// live capture delivers them and as the capture-file readers (src/pcap/) hand them out. Per packet a
// record of META_WORDS uint32 in host byte order [dataOffset, caplen, origLen, tsSecLo, tsSecHi, tsNsec]
// and its bytes in `buffer`. Two layouts:
// - the addon's: `count` records, then the packet bytes back to back, all in `buffer` (dataOffset
//   counted from the end of the records);
// - records apart (the file readers): the records in their own array, dataOffset counted from the
//   start of `buffer`, which is the chunk of the file the packets were read from.
// Pure: no I/O. The Buffer is the batch's own (or a file chunk nobody writes), so a batch and the
// subarrays it hands out are safe to keep — except the batches of a SocketCapture, whose staging
// buffer is reused (see src/capture/socket-capture.ts).

import { viewOf } from './buffer-view.js';

/** uint32 words per packet record. */
export const META_WORDS = 6;
const META_BYTES = META_WORDS * 4;
const NS_PER_SEC = 1_000_000_000n;
const TWO_32 = 0x1_0000_0000;

/** One packet for CaptureBatch.fromPackets. */
export interface BatchPacketInit {
  data: Uint8Array;
  /** Capture time in ns since the epoch. Default 0n. */
  tsNs?: bigint;
  /** Length on the wire; defaults to data.length. */
  origLen?: number;
}

/** Records kept apart from the packet bytes (the layout the file readers build). */
export interface BatchRecords {
  /** count × META_WORDS words; dataOffset counts from the start of the buffer. */
  readonly meta: Uint32Array;
  /** File-wide interface index of every packet (default 0). */
  readonly interfaceId?: number;
  /** pcapng epb_flags per packet, −1 where a packet has none; absent when none has. */
  readonly epbFlags?: Float64Array | undefined;
}

/** Writes a timestamp into a record at word `m` (seconds may be negative: tsSecHi is two's complement). */
export function writeRecordTime(meta: Uint32Array, m: number, sec: number, nsec: number): void {
  const hi = Math.floor(sec / TWO_32);
  meta[m + 3] = sec - hi * TWO_32;
  meta[m + 4] = hi;
  meta[m + 5] = nsec;
}

export class CaptureBatch {
  /** Number of packets. */
  readonly count: number;
  /** LINKTYPE_* of every packet in the batch (see linktype.ts). */
  readonly linkType: number;
  /** File-wide interface index of the packets (capture files; 0 for a live capture). */
  readonly interfaceId: number;
  /** Holds the packet bytes at offset(i) (the addon's layout: records, then packet bytes). */
  readonly buffer: Buffer;
  private readonly meta: Uint32Array;
  private readonly base: number;
  private readonly byteCount: number;
  private readonly flagWords: Float64Array | undefined;

  /**
   * The addon's layout in `buffer`, or, with `records`, the records apart. `records` as a number:
   * how many records the buffer has room for before the packet bytes (default `count`); a reused
   * staging buffer (SocketCapture) has a fixed number of record slots.
   */
  constructor(buffer: Buffer, count: number, linkType: number, records: number | BatchRecords = count) {
    const apart = typeof records !== 'number';
    const slots = apart ? 0 : records;
    if (
      !Number.isInteger(count) ||
      count < 0 ||
      !Number.isInteger(slots) ||
      (!apart && slots < count) ||
      slots * META_BYTES > buffer.length ||
      (apart && records.meta.length < count * META_WORDS)
    ) {
      throw new RangeError(
        `CaptureBatch: ${count} records (${apart ? 'apart' : `${slots} slots`}) do not fit in ${buffer.length} bytes`,
      );
    }
    this.buffer = buffer;
    this.count = count;
    this.linkType = linkType;
    this.interfaceId = apart ? (records.interfaceId ?? 0) : 0;
    this.flagWords = apart ? records.epbFlags : undefined;
    this.base = slots * META_BYTES;
    // The addon's buffers start 4-aligned (own ArrayBuffer); copy the records if one does not.
    this.meta = apart
      ? records.meta
      : buffer.byteOffset % 4 === 0
        ? new Uint32Array(buffer.buffer, buffer.byteOffset, count * META_WORDS)
        : new Uint32Array(Uint8Array.prototype.slice.call(buffer, 0, this.base).buffer);
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      bytes += this.meta[i * META_WORDS + 1]!;
      const end = this.base + this.meta[i * META_WORDS]! + this.meta[i * META_WORDS + 1]!;
      if (end > buffer.length) throw new RangeError(`CaptureBatch: packet ${i} ends at ${end}, past ${buffer.length}`);
    }
    this.byteCount = bytes;
  }

  private at(i: number, word: number): number {
    if (!(i >= 0 && i < this.count && Number.isInteger(i))) {
      throw new RangeError(`packet index ${i} out of range [0, ${this.count})`);
    }
    return this.meta[i * META_WORDS + word]!;
  }

  /** Byte offset of packet i inside `buffer`. */
  offset(i: number): number {
    return this.base + this.at(i, 0);
  }

  /** Captured length of packet i (≤ snaplen). */
  caplen(i: number): number {
    return this.at(i, 1);
  }

  /** Length of packet i on the wire. */
  origLen(i: number): number {
    return this.at(i, 2);
  }

  /** Whether packet i was cut by the snaplen. */
  truncated(i: number): boolean {
    return this.at(i, 1) < this.at(i, 2);
  }

  /** The captured bytes of packet i (a view into `buffer`, no copy). */
  data(i: number): Buffer {
    return viewOf(this.buffer, this.offset(i), this.at(i, 1));
  }

  /** Whole seconds of packet i's timestamp (allocation-free; 0 with tsNsec 0: no timestamp). */
  tsSec(i: number): number {
    return (this.at(i, 4) | 0) * TWO_32 + this.at(i, 3);
  }

  /** Nanoseconds within the second of packet i's timestamp (allocation-free). */
  tsNsec(i: number): number {
    return this.at(i, 5);
  }

  /**
   * Nanoseconds from the time (sec, nsec) to packet i's timestamp, as a number (allocation-free;
   * exact up to 2^53 ns, about 104 days).
   */
  nsSince(i: number, sec: number, nsec: number): number {
    return (this.tsSec(i) - sec) * 1e9 + (this.at(i, 5) - nsec);
  }

  /** Packet i's timestamp in ns since the epoch (allocates a bigint: for writers that need it exact). */
  tsNs(i: number): bigint {
    return BigInt(this.tsSec(i)) * NS_PER_SEC + BigInt(this.at(i, 5));
  }

  /** pcapng epb_flags of packet i when the capture file recorded them (undefined otherwise). */
  epbFlags(i: number): number | undefined {
    this.at(i, 0);
    const f = this.flagWords?.[i];
    return f === undefined || f < 0 ? undefined : f;
  }

  /** Total captured bytes (without the records). */
  get bytes(): number {
    return this.byteCount;
  }

  /**
   * Packets [start, end) as a batch of their own in the addon's layout: records, then a copy of the
   * packet bytes (so the copy may be modified, and keeps no larger buffer alive); its interfaceId
   * is 0 and it has no epb_flags. Pure.
   */
  copy(start: number, end: number): CaptureBatch {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= this.count)) {
      throw new RangeError(`CaptureBatch.copy: [${start}, ${end}) is not within [0, ${this.count})`);
    }
    const n = end - start;
    const base = n * META_BYTES;
    let total = base;
    for (let i = start; i < end; i++) total += this.meta[i * META_WORDS + 1]!;
    const buf = Buffer.allocUnsafeSlow(total); // own ArrayBuffer: the records start 4-aligned
    const meta = new Uint32Array(buf.buffer, buf.byteOffset, n * META_WORDS);
    meta.set(this.meta.subarray(start * META_WORDS, end * META_WORDS));
    let off = 0;
    for (let k = 0; k < n; k++) {
      const m = k * META_WORDS;
      const from = this.base + meta[m]!;
      const len = meta[m + 1]!;
      this.buffer.copy(buf, base + off, from, from + len);
      meta[m] = off;
      off += len;
    }
    return new CaptureBatch(buf, n, this.linkType);
  }

  /** Builds a batch in the addon's layout (tests, tools). Pure. */
  static fromPackets(packets: readonly BatchPacketInit[], linkType: number): CaptureBatch {
    const base = packets.length * META_BYTES;
    let total = base;
    for (const p of packets) total += p.data.length;
    const buf = Buffer.alloc(total);
    const meta = new Uint32Array(buf.buffer, buf.byteOffset, packets.length * META_WORDS);
    let off = 0;
    packets.forEach((p, i) => {
      const ts = p.tsNs ?? 0n;
      if (ts < 0n) throw new RangeError('CaptureBatch.fromPackets: negative timestamp');
      const m = i * META_WORDS;
      meta[m] = off;
      meta[m + 1] = p.data.length;
      meta[m + 2] = p.origLen ?? p.data.length;
      writeRecordTime(meta, m, Number(ts / NS_PER_SEC), Number(ts % NS_PER_SEC));
      buf.set(p.data, base + off);
      off += p.data.length;
    });
    return new CaptureBatch(buf, packets.length, linkType);
  }
}
