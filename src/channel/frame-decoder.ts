// Streaming frame decoder: bytes in any chunking → whole messages, in order. Frames may be split
// across chunks at any byte; the header is checked as soon as its bytes arrive, so garbage and
// oversized frames are refused before their body is awaited. Pure: no I/O.

import { ResponseScratch, decodeBody, decodeResponse } from './codec.js';
import { ChannelError } from './errors.js';
import { CHANNEL_PROTOCOL_VERSION, FRAME_HEADER_LENGTH, MAX_FRAME_BODY_LENGTH, MessageType } from './messages.js';
import type { ChannelMessage } from './messages.js';
import { StreamDecoder } from './stream-decoder.js';

export interface FrameDecoderOptions {
  /** Largest frame body accepted; larger announcements give FRAME_TOO_LARGE. Default 4096, at most 65535. */
  maxFrameBodyBytes?: number;
  /**
   * Decode every RESPONSE into one reused message (its tcpHeader a reused copy): no allocation per
   * reply, and the message is valid only during its onMessage call. Default false (fresh messages).
   */
  reuseResponses?: boolean;
}

export const DEFAULT_MAX_FRAME_BODY_BYTES = 4096;
const MAX_TYPE = MessageType.STATS_WANT;

/**
 * push() throws ChannelError (BAD_VERSION, UNKNOWN_TYPE, FRAME_TOO_LARGE, MALFORMED) on the first bad
 * frame, end() TRUNCATED; the decoder then stays failed.
 */
export class FrameDecoder extends StreamDecoder<ChannelMessage, ChannelError> {
  readonly maxFrameBodyBytes: number;
  private readonly scratch: ResponseScratch | null;

  constructor(options: FrameDecoderOptions = {}) {
    super();
    const max = options.maxFrameBodyBytes ?? DEFAULT_MAX_FRAME_BODY_BYTES;
    if (!Number.isInteger(max) || max < 1 || max > MAX_FRAME_BODY_LENGTH) {
      throw new ChannelError('BAD_FIELD', `maxFrameBodyBytes ${max} is not in 1..${MAX_FRAME_BODY_LENGTH}`);
    }
    this.maxFrameBodyBytes = max;
    this.scratch = options.reuseResponses === true ? new ResponseScratch() : null;
  }

  protected decode(buf: Buffer, onMessage: (m: ChannelMessage) => void): number {
    let at = 0;
    for (;;) {
      const left = buf.length - at;
      if (left >= 1 && buf[at] !== CHANNEL_PROTOCOL_VERSION) {
        throw new ChannelError(
          'BAD_VERSION',
          `frame version ${String(buf[at])}, expected ${CHANNEL_PROTOCOL_VERSION}`,
          this.consumed + at,
        );
      }
      if (left >= 2) {
        const type = buf[at + 1] ?? 0;
        if (type < 1 || type > MAX_TYPE)
          throw new ChannelError('UNKNOWN_TYPE', `unknown message type ${type}`, this.consumed + at + 1);
      }
      if (left < FRAME_HEADER_LENGTH) return at;
      const len = buf.readUInt16BE(at + 2);
      if (len > this.maxFrameBodyBytes) {
        throw new ChannelError(
          'FRAME_TOO_LARGE',
          `frame body of ${len} bytes exceeds ${this.maxFrameBodyBytes}`,
          this.consumed + at + 2,
        );
      }
      if (left < FRAME_HEADER_LENGTH + len) return at;
      const start = at + FRAME_HEADER_LENGTH;
      const type = buf[at + 1] ?? 0;
      const m =
        type === MessageType.RESPONSE
          ? decodeResponse(buf, start, start + len, this.consumed, this.scratch)
          : decodeBody(type, buf, start, start + len, this.consumed);
      at = start + len;
      onMessage(m);
    }
  }

  /** A bad frame fails the decoder; anything else (thrown by onMessage) passes through. */
  protected failure(e: unknown): ChannelError | null {
    return e instanceof ChannelError ? e : null;
  }

  protected truncated(bytes: number): ChannelError {
    return new ChannelError('TRUNCATED', `stream ended with ${bytes} bytes of an unfinished frame`, this.consumed);
  }
}
