// Streaming frame decoder: bytes in any chunking → whole messages, in order. Frames may be split
// across chunks at any byte; the header is checked as soon as its bytes arrive, so garbage and
// oversized frames are refused before their body is awaited. Pure: no I/O.

import { ResponseScratch, decodeBody, decodeResponse } from './codec.js';
import { ChannelError } from './errors.js';
import { CHANNEL_PROTOCOL_VERSION, FRAME_HEADER_LENGTH, MAX_FRAME_BODY_LENGTH, MessageType } from './messages.js';
import type { ChannelMessage } from './messages.js';

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
const MAX_TYPE = MessageType.NOTICE;

export class FrameDecoder {
  readonly maxFrameBodyBytes: number;
  private pending: Buffer | null = null;
  /** Stream offset of pending[0] (or of the next byte when nothing is pending). */
  private consumed = 0;
  private failed: ChannelError | null = null;
  private readonly scratch: ResponseScratch | null;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameBodyBytes ?? DEFAULT_MAX_FRAME_BODY_BYTES;
    if (!Number.isInteger(max) || max < 1 || max > MAX_FRAME_BODY_LENGTH) {
      throw new ChannelError('BAD_FIELD', `maxFrameBodyBytes ${max} is not in 1..${MAX_FRAME_BODY_LENGTH}`);
    }
    this.maxFrameBodyBytes = max;
    this.scratch = options.reuseResponses === true ? new ResponseScratch() : null;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Stream bytes fully decoded so far. */
  get decodedBytes(): number {
    return this.consumed;
  }

  /**
   * Feeds one chunk; calls `onMessage` for each whole frame in order. Throws ChannelError (BAD_VERSION,
   * UNKNOWN_TYPE, FRAME_TOO_LARGE, MALFORMED) on the first bad frame; the decoder then stays failed.
   */
  push(chunk: Buffer, onMessage: (m: ChannelMessage) => void): void {
    if (this.failed) throw this.failed;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at = 0;
    try {
      for (;;) {
        const left = buf.length - at;
        if (left >= 1 && buf[at] !== CHANNEL_PROTOCOL_VERSION) {
          throw new ChannelError('BAD_VERSION', `frame version ${String(buf[at])}, expected ${CHANNEL_PROTOCOL_VERSION}`, this.consumed + at);
        }
        if (left >= 2) {
          const type = buf[at + 1] ?? 0;
          if (type < 1 || type > MAX_TYPE) throw new ChannelError('UNKNOWN_TYPE', `unknown message type ${type}`, this.consumed + at + 1);
        }
        if (left < FRAME_HEADER_LENGTH) break;
        const len = buf.readUInt16BE(at + 2);
        if (len > this.maxFrameBodyBytes) {
          throw new ChannelError('FRAME_TOO_LARGE', `frame body of ${len} bytes exceeds ${this.maxFrameBodyBytes}`, this.consumed + at + 2);
        }
        if (left < FRAME_HEADER_LENGTH + len) break;
        const start = at + FRAME_HEADER_LENGTH;
        const type = buf[at + 1] ?? 0;
        const m = type === MessageType.RESPONSE
          ? decodeResponse(buf, start, start + len, this.consumed, this.scratch)
          : decodeBody(type, buf, start, start + len, this.consumed);
        at = start + len;
        onMessage(m);
      }
    } catch (e) {
      if (e instanceof ChannelError) this.failed = e;
      throw e;
    }
    this.consumed += at;
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }

  /** The stream ended: throws TRUNCATED if a partial frame is pending. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pending) {
      const e = new ChannelError('TRUNCATED', `stream ended with ${this.pending.length} bytes of an unfinished frame`, this.consumed);
      this.failed = e;
      throw e;
    }
  }
}
