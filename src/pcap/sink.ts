// Staging buffer in front of a Node Writable for the capture writers: records are encoded straight into
// a large buffer that is handed to the stream when full (one stream.write per ~256 KiB), and the
// stream's backpressure (write() === false until 'drain') is reported to the caller.

import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { CaptureWriteError } from './errors.js';

export const DEFAULT_STAGING_BYTES = 256 * 1024;

export class StagedSink {
  /** Current staging buffer; encode into buf[len, len + n) after reserve(n). */
  buf: Buffer;
  len = 0;
  private blocked = false;
  private closed = false;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly stream: Writable,
    private readonly size: number = DEFAULT_STAGING_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    stream.on('drain', () => {
      this.blocked = false;
      this.wake();
    });
    stream.on('error', (err: Error) => {
      this.failure = err;
      this.wake();
    });
    stream.on('close', () => {
      // Destroyed by someone else: 'drain' will never come, so release waiters with an error.
      if (!this.closed) this.failure ??= new Error('the output stream was closed');
      this.wake();
    });
  }

  /** False while the stream asks the producer to wait (await drain()). */
  get ready(): boolean {
    return !this.blocked;
  }

  /** Makes room for n more bytes in buf (flushing first when needed) and returns the offset to write at. */
  reserve(n: number): number {
    this.check();
    if (this.len + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.size));
    }
    return this.len;
  }

  /** Hands staged bytes to the stream; the staging buffer is then replaced (the stream keeps the old one). */
  flush(): boolean {
    this.check();
    if (this.len > 0) {
      const out = this.buf.subarray(0, this.len);
      this.buf = Buffer.allocUnsafe(this.size);
      this.len = 0;
      if (!this.stream.write(out)) this.blocked = true;
    }
    return !this.blocked;
  }

  /** Resolves when the stream has drained (at once when it is not blocked); rejects if the stream failed. */
  drain(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.wrapFailure());
    if (!this.blocked) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push(() => (this.failure !== undefined ? reject(this.wrapFailure()) : resolve()));
    });
  }

  /** Flushes, ends the stream and waits until it has finished (for files: data written, fd closed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.stream.end();
    try {
      await finished(this.stream);
    } catch (err) {
      throw new CaptureWriteError('CLOSED', `capture output failed: ${(err as Error).message}`, { cause: err });
    }
    if (this.failure !== undefined) throw this.wrapFailure();
  }

  private check(): void {
    if (this.closed) throw new CaptureWriteError('CLOSED', 'capture writer is closed');
    if (this.failure !== undefined) throw this.wrapFailure();
  }

  private wrapFailure(): CaptureWriteError {
    return new CaptureWriteError('CLOSED', `capture output failed: ${this.failure?.message ?? 'unknown error'}`, {
      cause: this.failure,
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}

/**
 * What both capture writers share: the staged sink, the packet count, and backpressure, flush and
 * close passed through to the sink. Subclasses encode records into `sink` and count them.
 */
export abstract class SinkWriter {
  protected readonly sink: StagedSink;
  protected count = 0;

  protected constructor(stream: Writable, bufferSize?: number) {
    this.sink = new StagedSink(stream, bufferSize);
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  /** Resolves when the stream wants more (after write() returned false). */
  drain(): Promise<void> {
    return this.sink.drain();
  }

  /** Pushes the staged bytes to the stream now; false when it asks to wait. */
  flush(): boolean {
    return this.sink.flush();
  }

  /** Flushes, ends the stream and waits until it has finished. */
  close(): Promise<void> {
    return this.sink.close();
  }
}
