// What every streaming decoder of the channel does, whatever the wire format: bytes arrive in any
// chunking, the bytes of an unfinished unit (frame, record) are held until the rest arrives, offsets
// are counted from the start of the stream, and after the first bad unit the decoder stays failed.
// FrameDecoder (our frames) and the TCPCopy 1.x record streams extend it with how a unit is read.
// Pure: no I/O.

export abstract class StreamDecoder<T, E extends Error> {
  private pending: Buffer | null = null;
  /** Stream offset of pending[0] (or of the next byte when nothing is pending). */
  protected consumed = 0;
  private failed: E | null = null;

  /** Bytes held while waiting for the rest of a unit. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Stream bytes fully decoded so far. */
  get decodedBytes(): number {
    return this.consumed;
  }

  /**
   * Feeds one chunk; calls `onUnit` for each whole unit in order. Throws on the first bad unit, and again on every
   * later call.
   */
  push(chunk: Buffer, onUnit: (unit: T) => void): void {
    if (this.failed) throw this.failed;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at: number;
    try {
      at = this.decode(buf, onUnit);
    } catch (e) {
      const failure = this.failure(e);
      if (failure === null) throw e;
      this.failed = failure;
      throw failure;
    }
    this.consumed += at;
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }

  /** The stream ended: throws the `truncated` error if part of a unit is pending. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pending) {
      this.failed = this.truncated(this.pending.length);
      throw this.failed;
    }
  }

  /** Reads the whole units at the start of `buf` (its byte 0 is stream offset `consumed`); returns the bytes used. */
  protected abstract decode(buf: Buffer, onUnit: (unit: T) => void): number;

  /** The error a throw from decode leaves the decoder failed with; null passes the throw on without failing. */
  protected abstract failure(e: unknown): E | null;

  /** The error of a stream that ended with `bytes` bytes of an unfinished unit. */
  protected abstract truncated(bytes: number): E;
}
