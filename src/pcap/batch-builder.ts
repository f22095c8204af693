// Collects the packets a decoder finds into CaptureBatches (src/packet/batch.ts) with the records
// apart from the bytes: one batch per run of packets that share their buffer (the chunk, or the
// small buffer of a record that straddled two chunks) and their interface. Per packet: six words in
// a reused scratch array, no object and no bigint; per batch: the records copied out, one object.

import { CaptureBatch, META_WORDS, writeRecordTime } from '../packet/batch.js';

const INITIAL_RECORDS = 256;

export class BatchBuilder {
  private out: CaptureBatch[] = [];
  private meta = new Uint32Array(INITIAL_RECORDS * META_WORDS);
  private flags: Float64Array | undefined;
  private count = 0;
  private buf: Buffer | undefined;
  private linkType = -1;
  private interfaceId = -1;

  /**
   * Adds one packet: caplen bytes at buf[dataStart], captured at `sec` s + `nsec` ns since the
   * epoch (nsec in [0, 1e9)); `epbFlags` −1 when the packet has none.
   */
  add(
    buf: Buffer,
    dataStart: number,
    caplen: number,
    origLen: number,
    sec: number,
    nsec: number,
    linkType: number,
    interfaceId: number,
    epbFlags = -1,
  ): void {
    if (buf !== this.buf || linkType !== this.linkType || interfaceId !== this.interfaceId) {
      this.flush();
      this.buf = buf;
      this.linkType = linkType;
      this.interfaceId = interfaceId;
    }
    const i = this.count;
    if ((i + 1) * META_WORDS > this.meta.length) this.grow();
    const meta = this.meta;
    const m = i * META_WORDS;
    meta[m] = dataStart;
    meta[m + 1] = caplen;
    meta[m + 2] = origLen;
    writeRecordTime(meta, m, sec, nsec);
    if (epbFlags >= 0 || this.flags !== undefined) {
      // Flags are rare: the array exists only for a run where some packet has them.
      if (this.flags === undefined) this.flags = new Float64Array(this.meta.length / META_WORDS).fill(-1, 0, i);
      this.flags[i] = epbFlags;
    }
    this.count = i + 1;
  }

  /** Ends the current run: its packets become a batch. */
  flush(): void {
    const n = this.count;
    if (n === 0 || this.buf === undefined) return;
    const flags = this.flags;
    this.out.push(
      new CaptureBatch(this.buf, n, this.linkType, {
        meta: this.meta.slice(0, n * META_WORDS),
        interfaceId: this.interfaceId,
        epbFlags: flags?.slice(0, n),
      }),
    );
    this.count = 0;
    this.flags = undefined;
  }

  /** The batches completed so far (the current run included); the builder starts empty again. */
  take(): CaptureBatch[] {
    this.flush();
    const out = this.out;
    this.out = [];
    this.buf = undefined;
    return out;
  }

  private grow(): void {
    const meta = new Uint32Array(this.meta.length * 2);
    meta.set(this.meta);
    this.meta = meta;
    if (this.flags !== undefined) {
      const flags = new Float64Array(meta.length / META_WORDS);
      flags.set(this.flags);
      this.flags = flags;
    }
  }
}
