// The I/O edge of the reader: streams a capture file (or any Readable) through CaptureFileParser with
// bounded memory and hands out the packets as an async iterable of CaptureBatches (src/packet/batch.ts).

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { CaptureBatch } from '../packet/batch.js';
import { CaptureFileError } from './errors.js';
import { CaptureFileParser } from './parser.js';
import type { CaptureFileInfo } from './types.js';

export interface ReadCaptureOptions {
  /** Read size for files (default 1 MiB). Memory use is about this plus the largest record. */
  chunkSize?: number;
  /** Records/blocks larger than this are refused as corrupt (default 16 MiB). */
  maxBlockBytes?: number;
  /**
   * A file that ends inside a record or block (what a killed tcpdump leaves) ends after its last
   * whole packet: this is called with the TRUNCATED error (file name, byte offset) instead of it
   * being thrown. A file cut before its first whole packet is still refused. Default: thrown.
   */
  onTruncated?: (e: CaptureFileError) => void;
}

const DEFAULT_CHUNK = 1 << 20;

/**
 * One pass over a capture file. Iterate it (for await) for its packets in file order, as batches:
 * each chunk read gives a batch per run of packets of one interface (never an empty batch). It can
 * be iterated once. A truncated or corrupt file makes the iteration throw CaptureFileError naming
 * the file and the byte offset.
 */
export class CaptureFileReader implements AsyncIterable<CaptureBatch> {
  private readonly parser: CaptureFileParser;
  private started = false;

  private readonly onTruncated: ((e: CaptureFileError) => void) | undefined;

  constructor(
    private readonly open: () => Readable,
    readonly name: string | undefined,
    options: ReadCaptureOptions = {},
  ) {
    this.onTruncated = options.onTruncated;
    this.parser = new CaptureFileParser({
      ...(name !== undefined ? { file: name } : {}),
      ...(options.maxBlockBytes !== undefined ? { maxBlockBytes: options.maxBlockBytes } : {}),
    });
  }

  /** File-level facts: set once the magic is read, complete when iteration has finished. */
  get info(): CaptureFileInfo | undefined {
    return this.parser.info;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CaptureBatch, void, undefined> {
    if (this.started) throw new CaptureFileError('ENDED', 'capture file iterated a second time', 0, this.name);
    this.started = true;
    const stream = this.open();
    const parser = this.parser;
    try {
      let packets = 0;
      for await (const chunk of stream as AsyncIterable<unknown>) {
        if (!Buffer.isBuffer(chunk)) {
          throw Object.assign(new TypeError('capture stream must yield Buffers (no encoding set)'), {
            code: 'ERR_INVALID_ARG_TYPE',
          });
        }
        for (const batch of parser.push(chunk)) {
          packets += batch.count;
          yield batch;
        }
      }
      try {
        parser.end();
      } catch (e) {
        // Cut short after a whole packet: the packets before the cut stand, when the caller says so.
        // A file cut before its first packet (in its headers) holds nothing to stand on: refused.
        if (
          this.onTruncated === undefined ||
          !(e instanceof CaptureFileError) ||
          e.code !== 'TRUNCATED' ||
          packets === 0
        )
          throw e;
        this.onTruncated(e);
      }
    } finally {
      stream.destroy();
    }
  }
}

/** Streams the capture file at `path` (pcap or pcapng, detected by magic). */
export function readCaptureFile(path: string, options: ReadCaptureOptions = {}): CaptureFileReader {
  const chunk = options.chunkSize ?? DEFAULT_CHUNK;
  return new CaptureFileReader(() => createReadStream(path, { highWaterMark: chunk }), path, options);
}

/** Reads a capture from any byte stream (e.g. stdin, a socket); `name` is used in error messages. */
export function readCaptureStream(
  stream: Readable,
  name?: string,
  options: ReadCaptureOptions = {},
): CaptureFileReader {
  return new CaptureFileReader(() => stream, name, options);
}

/** Reads a whole capture file into memory: its information and every packet. */
export async function loadCaptureFile(
  path: string,
  options: ReadCaptureOptions = {},
): Promise<{ info: CaptureFileInfo; batches: CaptureBatch[] }> {
  const reader = readCaptureFile(path, options);
  const batches: CaptureBatch[] = [];
  for await (const batch of reader) batches.push(batch);
  const info = reader.info;
  if (info === undefined) throw new CaptureFileError('TRUNCATED', 'truncated file magic', 0, path); // unreachable: end() threw
  return { info, batches };
}
