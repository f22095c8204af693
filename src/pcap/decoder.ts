// The contract between the push parser (parser.ts) and a format decoder (pcap or pcapng): the decoder
// consumes whole units (a header, a record, a block) from a buffer and says how many bytes the next one needs.

import type { BatchBuilder } from './batch-builder.js';

export interface FormatDecoder {
  /**
   * Decodes every complete unit in buf[pos, buf.length), adding its packets to `out`, and returns the
   * position after the last complete unit. `abs` is the file offset of buf[pos]. Afterwards `need` is the
   * number of bytes, counted from the returned position, the next unit requires. Throws CaptureFileError.
   */
  decode(buf: Buffer, pos: number, abs: number, out: BatchBuilder): number;
  /** Bytes the next unit needs (from the position decode() returned). */
  readonly need: number;
  /** Names the unit that is incomplete, for truncation messages ("truncated <what>"). */
  pendingWhat(): string;
}
