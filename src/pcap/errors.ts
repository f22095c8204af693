// Error types of the capture-file layer: CaptureFileError for unreadable input (with the file name and
// the byte offset of the bad structure), CaptureWriteError for packets or options a writer cannot encode.

/** Why a capture file could not be read. */
export type CaptureFileErrorCode =
  | 'BAD_MAGIC' // not a pcap/pcapng file, or a Section Header Block with an unknown byte-order magic
  | 'TRUNCATED' // the input ended inside a header, record or block
  | 'BAD_BLOCK_LENGTH' // a pcapng block length is too small, unaligned, too large, or differs from its trailer
  | 'BAD_VERSION' // an unsupported pcap or pcapng major version
  | 'BAD_INTERFACE' // a packet names an interface that has no Interface Description Block
  | 'CAPLEN_EXCEEDS' // a captured length larger than its block or than the accepted maximum
  | 'BAD_OPTION' // a pcapng option runs past the end of its block or has an invalid value
  | 'ENDED'; // push() after end()

export class CaptureFileError extends Error {
  override readonly name = 'CaptureFileError';
  readonly code: CaptureFileErrorCode;
  /** Byte offset in the file of the header, record or block that is bad. */
  readonly offset: number;
  /** The file name given to the reader, if any. */
  readonly file: string | undefined;

  /**
   * @param what   the bad structure, e.g. "truncated packet record"
   * @param detail extra facts appended in parentheses, e.g. "needs 60 more bytes"
   */
  constructor(code: CaptureFileErrorCode, what: string, offset: number, file?: string, detail?: string) {
    super(`${file ?? '<capture>'}: ${what} at byte offset ${offset}${detail !== undefined ? ` (${detail})` : ''}`);
    this.code = code;
    this.offset = offset;
    this.file = file;
  }
}

/** Why a writer refused a packet, an interface or an operation. */
export type CaptureWriteErrorCode =
  | 'BAD_TIMESTAMP' // negative, or beyond what the format can hold
  | 'BAD_PACKET' // origLen smaller than the data, or a length beyond 32 bits
  | 'BAD_INTERFACE' // an interface id that was not declared
  | 'BAD_OPTION' // an option value the format cannot hold (e.g. a name longer than 65535 bytes)
  | 'CLOSED'; // write after close, or the underlying stream failed

export class CaptureWriteError extends Error {
  override readonly name = 'CaptureWriteError';
  readonly code: CaptureWriteErrorCode;

  constructor(code: CaptureWriteErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
