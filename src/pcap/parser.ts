// Push parser for capture files: accepts the file as chunks of any size, detects pcap vs pcapng from the
// magic, and returns the packets of every complete record as CaptureBatches (src/packet/batch.ts). Bytes of an
// incomplete record are held until
// the next chunk (only that record is ever copied), so memory stays bounded by the largest record.

import type { CaptureBatch } from '../packet/batch.js';
import { BatchBuilder } from './batch-builder.js';
import { CaptureFileError } from './errors.js';
import type { FormatDecoder } from './decoder.js';
import { BlockType, DEFAULT_MAX_BLOCK_BYTES } from './format.js';
import { PcapDecoder, isPcapMagic } from './pcap-reader.js';
import { PcapngDecoder } from './pcapng-reader.js';
import type { CaptureFileInfo } from './types.js';

export interface CaptureFileParserOptions {
  /** Name used in error messages (normally the path). */
  file?: string;
  /** Records/blocks larger than this are refused as corrupt (default 16 MiB). */
  maxBlockBytes?: number;
}

const MAGIC_LEN = 4;

/**
 * Incremental reader of a pcap or pcapng byte stream.
 *
 * A batch's `buffer` is a chunk passed to push() (or a small buffer the parser allocates when a record
 * straddles two chunks), its records apart: one batch per run of packets of the same buffer and
 * interface. The parser never writes to or reuses chunks, so batches and the views they hand out stay
 * valid for as long as the caller keeps them, provided the caller does not modify or reuse a chunk
 * after pushing it (Node streams never do). Keeping a batch keeps its whole chunk (up to 1 MiB for
 * files) in memory: copy packets kept for long.
 */
export class CaptureFileParser {
  readonly file: string | undefined;
  private readonly maxBlockBytes: number;
  private decoder: FormatDecoder | undefined;
  private fileInfo: CaptureFileInfo | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = MAGIC_LEN;
  /** File offset of the first byte not yet consumed (= of pending[0][0] when pendingBytes > 0). */
  private abs = 0;
  private ended = false;
  private failure: CaptureFileError | undefined;
  private readonly out = new BatchBuilder();

  constructor(options: CaptureFileParserOptions = {}) {
    this.file = options.file;
    this.maxBlockBytes = options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  }

  /** File-level facts, available once the magic has been read (undefined before). */
  get info(): CaptureFileInfo | undefined {
    return this.fileInfo;
  }

  /** Bytes consumed as complete headers, records and blocks so far. */
  get bytesConsumed(): number {
    return this.abs;
  }

  /** Feeds the next chunk; returns the packets completed by it, in file order (possibly no batch). */
  push(chunk: Buffer): CaptureBatch[] {
    if (this.failure !== undefined) throw this.failure;
    if (this.ended)
      throw new CaptureFileError('ENDED', 'data pushed after end()', this.abs + this.pendingBytes, this.file);
    try {
      this.feed(chunk, this.out);
    } catch (err) {
      if (err instanceof CaptureFileError) this.failure = err;
      throw err;
    }
    return this.out.take();
  }

  /**
   * Declares the end of input. Throws CaptureFileError TRUNCATED when the input stopped inside a header,
   * record or block (or was empty); otherwise returns the complete file information.
   */
  end(): CaptureFileInfo {
    if (this.failure !== undefined) throw this.failure;
    if (!this.ended) {
      this.ended = true;
      if (this.pendingBytes > 0 || this.fileInfo === undefined) {
        const what = this.decoder === undefined ? 'file magic' : this.decoder.pendingWhat();
        const missing = this.need - this.pendingBytes;
        this.failure = new CaptureFileError(
          'TRUNCATED',
          `truncated ${what}`,
          this.abs,
          this.file,
          `needs ${missing} more byte${missing === 1 ? '' : 's'}`,
        );
        throw this.failure;
      }
    }
    const info = this.fileInfo;
    if (info === undefined) throw new CaptureFileError('TRUNCATED', 'truncated file magic', 0, this.file); // unreachable
    return info;
  }

  private feed(chunk: Buffer, out: BatchBuilder): void {
    let cpos = 0;
    // Complete the straddling record first, copying only its bytes.
    while (this.pendingBytes > 0) {
      const avail = chunk.length - cpos;
      if (this.pendingBytes + avail < this.need) {
        if (avail > 0) {
          this.pending.push(cpos === 0 ? chunk : chunk.subarray(cpos));
          this.pendingBytes += avail;
        }
        return;
      }
      const take = this.need - this.pendingBytes;
      this.pending.push(chunk.subarray(cpos, cpos + take));
      cpos += take;
      const bridge = Buffer.concat(this.pending, this.need);
      this.pending = [];
      this.pendingBytes = 0;
      this.run(bridge, 0, out);
    }
    if (cpos < chunk.length) this.run(chunk, cpos, out);
  }

  private run(buf: Buffer, pos: number, out: BatchBuilder): void {
    if (this.decoder === undefined) {
      if (buf.length - pos < MAGIC_LEN) {
        this.keep(buf, pos);
        return;
      }
      this.decoder = this.detect(buf.readUInt32LE(pos));
    }
    const decoder = this.decoder;
    const end = decoder.decode(buf, pos, this.abs, out);
    this.abs += end - pos;
    this.need = decoder.need;
    if (this.fileInfo !== undefined) this.fileInfo.bytes = this.abs;
    if (end < buf.length) this.keep(buf, end);
  }

  private keep(buf: Buffer, pos: number): void {
    this.pending.push(pos === 0 ? buf : buf.subarray(pos));
    this.pendingBytes = buf.length - pos;
  }

  private detect(magicLE: number): FormatDecoder {
    const info: CaptureFileInfo = {
      format: 'pcap',
      byteOrder: 'LE',
      nanosecond: false,
      sections: [],
      interfaces: [],
      packets: 0,
      bytes: 0,
      skippedBlocks: 0,
    };
    let decoder: FormatDecoder;
    if (isPcapMagic(magicLE)) {
      decoder = new PcapDecoder(info, this.file, this.maxBlockBytes);
    } else if (magicLE === BlockType.SHB) {
      info.format = 'pcapng';
      decoder = new PcapngDecoder(info, this.file, this.maxBlockBytes);
    } else {
      throw new CaptureFileError(
        'BAD_MAGIC',
        'not a pcap or pcapng file',
        this.abs,
        this.file,
        `magic 0x${magicLE.toString(16).padStart(8, '0')}`,
      );
    }
    this.fileInfo = info;
    return decoder;
  }
}

/** Parses a whole capture file held in memory (tests, small files). Throws CaptureFileError. */
export function parseCaptureBuffer(buf: Buffer, file?: string): CaptureBatch[] {
  return parseCapture(buf, file).batches;
}

/** Like parseCaptureBuffer, also returning the file information. */
export function parseCapture(buf: Buffer, file?: string): { info: CaptureFileInfo; batches: CaptureBatch[] } {
  const parser = new CaptureFileParser(file !== undefined ? { file } : {});
  const batches = parser.push(buf);
  const info = parser.end();
  return { info, batches };
}
