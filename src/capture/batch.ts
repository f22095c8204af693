// A zero-copy view over one batch of captured packets as the addon delivers it: `count` records of
// META_WORDS uint32 in host byte order [dataOffset, caplen, origLen, tsSecLo, tsSecHi, tsNsec]
// (dataOffset counted from the end of the records), then the packet bytes back to back.
// The Buffer is the batch's own copy, so a batch and the subarrays it hands out are safe to keep —
// except the batches of a SocketCapture, whose staging buffer is reused (see socket-capture.ts).

/** uint32 words per packet record. */
export const META_WORDS = 6;
const META_BYTES = META_WORDS * 4;
const NS_PER_SEC = 1_000_000_000n;

/** One packet for CaptureBatch.fromPackets. */
export interface BatchPacketInit {
  data: Uint8Array;
  /** Capture time in ns since the epoch. Default 0n. */
  tsNs?: bigint;
  /** Length on the wire; defaults to data.length. */
  origLen?: number;
}

export class CaptureBatch {
  /** Number of packets. */
  readonly count: number;
  /** LINKTYPE_* of every packet in the batch (see src/packet/linktype.ts). */
  readonly linkType: number;
  /** The whole batch (records, then packet bytes). */
  readonly buffer: Buffer;
  readonly #meta: Uint32Array;
  readonly #base: number;
  readonly #bytes: number;

  /**
   * `recordSlots`: how many records the buffer has room for before the packet bytes (default
   * `count`); a reused staging buffer (SocketCapture) has a fixed number of record slots.
   */
  constructor(buffer: Buffer, count: number, linkType: number, recordSlots: number = count) {
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(recordSlots) || recordSlots < count ||
      recordSlots * META_BYTES > buffer.length) {
      throw new RangeError(`CaptureBatch: ${count} records (${recordSlots} slots) do not fit in ${buffer.length} bytes`);
    }
    this.buffer = buffer;
    this.count = count;
    this.linkType = linkType;
    this.#base = recordSlots * META_BYTES;
    // The addon's buffers start 4-aligned (own ArrayBuffer); copy the records if one does not.
    this.#meta =
      buffer.byteOffset % 4 === 0
        ? new Uint32Array(buffer.buffer, buffer.byteOffset, count * META_WORDS)
        : new Uint32Array(Uint8Array.prototype.slice.call(buffer, 0, this.#base).buffer);
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      bytes += this.#meta[i * META_WORDS + 1]!;
      const end = this.#base + this.#meta[i * META_WORDS]! + this.#meta[i * META_WORDS + 1]!;
      if (end > buffer.length) throw new RangeError(`CaptureBatch: packet ${i} ends at ${end}, past ${buffer.length}`);
    }
    this.#bytes = bytes;
  }

  #at(i: number, word: number): number {
    if (!(i >= 0 && i < this.count && Number.isInteger(i))) {
      throw new RangeError(`packet index ${i} out of range [0, ${this.count})`);
    }
    return this.#meta[i * META_WORDS + word]!;
  }

  /** Byte offset of packet i inside `buffer`. */
  offset(i: number): number {
    return this.#base + this.#at(i, 0);
  }

  /** Captured length of packet i (≤ snaplen). */
  caplen(i: number): number {
    return this.#at(i, 1);
  }

  /** Length of packet i on the wire. */
  origLen(i: number): number {
    return this.#at(i, 2);
  }

  /** Whether packet i was cut by the snaplen. */
  truncated(i: number): boolean {
    return this.#at(i, 1) < this.#at(i, 2);
  }

  /** The captured bytes of packet i (a view into `buffer`, no copy). */
  data(i: number): Buffer {
    const off = this.offset(i);
    return this.buffer.subarray(off, off + this.#at(i, 1));
  }

  /** Whole seconds of packet i's timestamp (allocation-free). */
  tsSec(i: number): number {
    return this.#at(i, 4) * 0x1_0000_0000 + this.#at(i, 3);
  }

  /** Nanoseconds within the second of packet i's timestamp (allocation-free). */
  tsNsec(i: number): number {
    return this.#at(i, 5);
  }

  /** Packet i's timestamp in ns since the epoch. */
  tsNs(i: number): bigint {
    return BigInt(this.tsSec(i)) * NS_PER_SEC + BigInt(this.#at(i, 5));
  }

  /** Total captured bytes (without the records). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Builds a batch in the addon's layout (tests, replay from files). Pure. */
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
      const sec = ts / NS_PER_SEC;
      const m = i * META_WORDS;
      meta[m] = off;
      meta[m + 1] = p.data.length;
      meta[m + 2] = p.origLen ?? p.data.length;
      meta[m + 3] = Number(sec & 0xffff_ffffn);
      meta[m + 4] = Number(sec >> 32n);
      meta[m + 5] = Number(ts % NS_PER_SEC);
      buf.set(p.data, base + off);
      off += p.data.length;
    });
    return new CaptureBatch(buf, packets.length, linkType);
  }
}
