// MySQL packet framing over one direction of a TCP stream: a 3-byte little-endian payload length,
// a 1-byte sequence id, the payload. A payload of 0xffffff bytes or more is cut into 0xffffff-byte
// fragments, each with the next sequence id, ended by a shorter (possibly empty) fragment; the
// reader joins them into one logical packet.
import { MysqlProtocolError } from './errors.js';

/** Largest payload one frame carries; a frame this long is continued by the next one. */
export const MAX_FRAGMENT = 0xffffff;
const HEADER = 4;

export interface MysqlPacket {
  /** Sequence id of the first frame. */
  readonly seq: number;
  /** Sequence id of the last frame (differs from `seq` only for a payload cut into fragments). */
  readonly lastSeq: number;
  /** The joined payload; for a single frame it is a view into the bytes pushed. */
  readonly payload: Buffer;
  /** Position in the stream (bytes pushed before it) of the first frame's header. */
  readonly offset: number;
  /** Bytes the packet takes on the wire, headers included. */
  readonly wireLength: number;
}

export interface PacketReaderOptions {
  /** Largest logical payload accepted (default 64 MiB); a longer one throws TOO_LARGE. */
  readonly maxPacketSize?: number;
}

/** Frames one stream direction into packets; keeps a partial packet until the rest arrives. */
export class MysqlPacketReader {
  private readonly maxPacketSize: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes buffered needed before parsing can make progress (saves joining chunks for nothing). */
  private need = HEADER;
  /** Stream position of the first buffered byte. */
  private base = 0;
  private failed: MysqlProtocolError | null = null;

  constructor(opts: PacketReaderOptions = {}) {
    this.maxPacketSize = opts.maxPacketSize ?? 64 * 1024 * 1024;
  }

  /** Bytes held for a packet not yet complete. */
  pending(): number {
    return this.buffered;
  }

  /** Adds bytes of the stream; returns the packets they complete, in order. Throws after an error. */
  push(chunk: Buffer): MysqlPacket[] {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return [];
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out: MysqlPacket[] = [];
    let pos = 0;
    try {
      for (;;) {
        const got = this.frame(buf, pos);
        if (typeof got === 'number') {
          this.need = got;
          break;
        }
        out.push(got);
        pos += got.wireLength;
      }
    } catch (e) {
      if (e instanceof MysqlProtocolError) this.failed = e;
      throw e;
    }
    this.base += pos;
    const left = buf.subarray(pos);
    this.chunks = left.length ? [left] : [];
    this.buffered = left.length;
    return out;
  }

  /** The packet starting at `start`, or the number of bytes from `start` needed to complete it. */
  private frame(buf: Buffer, start: number): MysqlPacket | number {
    let pos = start;
    let total = 0;
    const parts: Buffer[] = [];
    let seq = -1;
    let lastSeq = -1;
    for (;;) {
      if (buf.length - pos < HEADER) return pos - start + HEADER;
      const len = buf.readUIntLE(pos, 3);
      const s = buf[pos + 3]!;
      if (seq < 0) seq = s;
      else if (s !== ((lastSeq + 1) & 0xff)) {
        throw new MysqlProtocolError('MALFORMED', this.base + pos, `fragment sequence ${s} after ${lastSeq}`);
      }
      lastSeq = s;
      total += len;
      if (total > this.maxPacketSize) {
        throw new MysqlProtocolError('TOO_LARGE', this.base + start, `payload over ${this.maxPacketSize} bytes`);
      }
      if (buf.length - pos - HEADER < len) return pos - start + HEADER + len;
      parts.push(buf.subarray(pos + HEADER, pos + HEADER + len));
      pos += HEADER + len;
      if (len < MAX_FRAGMENT) break;
    }
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
    return { seq, lastSeq, payload, offset: this.base + start, wireLength: pos - start };
  }
}

/** The frames of one packet: the payload cut at 0xffffff bytes, sequence ids counting from `seq`. */
export function encodePacket(seq: number, payload: Buffer): Buffer {
  const frames: Buffer[] = [];
  let s = seq & 0xff;
  let at = 0;
  for (;;) {
    const len = Math.min(MAX_FRAGMENT, payload.length - at);
    const header = Buffer.alloc(HEADER);
    header.writeUIntLE(len, 0, 3);
    header[3] = s;
    frames.push(header, payload.subarray(at, at + len));
    at += len;
    s = (s + 1) & 0xff;
    if (len < MAX_FRAGMENT) break;
  }
  return Buffer.concat(frames);
}
