// One framed channel connection over a socket: streaming decode of incoming bytes, and an outbox that
// coalesces every message queued while one input (a socket read, a capture batch) is handled into one
// socket write, flushed from process.nextTick — as soon as that input's handler returns, before the
// event loop polls again (never a timer wait, never a later loop turn) — and held back while the
// socket needs draining.

import type { Socket } from 'node:net';
import { encodeInto, frameLength } from './codec.js';
import { ChannelError } from './errors.js';
import { FrameDecoder } from './frame-decoder.js';
import { ChannelErrorWireCode } from './messages.js';
import type { ChannelMessage } from './messages.js';

export interface ConnectionLimits {
  /** Largest frame body accepted from the peer. */
  maxFrameBodyBytes: number;
  /** Bytes queued but not yet written beyond which new messages are dropped (and counted). */
  maxOutboxBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  maxFrameBodyBytes: 4096,
  maxOutboxBytes: 64 * 1024 * 1024,
};

export interface ConnectionStats {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** socket.write calls. */
  writes: number;
  /** Messages refused because the outbox was full. */
  outboxDropped: number;
}

export interface ConnectionHandlers {
  onMessage(m: ChannelMessage): void;
  /** A decode error (the connection is being closed) or a socket error. */
  onError(e: Error): void;
  /** The socket closed (once). */
  onClose(): void;
}

const CHUNK_BYTES = 64 * 1024;

export class ChannelConnection {
  readonly socket: Socket;
  readonly stats: ConnectionStats = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    writes: 0,
    outboxDropped: 0,
  };
  private readonly limits: ConnectionLimits;
  private readonly handlers: ConnectionHandlers;
  private readonly decoder: FrameDecoder;
  private chunks: Buffer[] = [];
  /** Frames are encoded here, then copied out at each flush (spill); reused for the connection's life. */
  private stage: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private queuedBytes = 0;
  private flushScheduled = false;
  private waitingDrain = false;
  private closed = false;
  private failing = false;

  /** `reuseResponses`: see FrameDecoderOptions (RESPONSE messages valid only during onMessage). */
  constructor(socket: Socket, limits: ConnectionLimits, handlers: ConnectionHandlers, reuseResponses = false) {
    this.socket = socket;
    this.limits = limits;
    this.handlers = handlers;
    this.decoder = new FrameDecoder({ maxFrameBodyBytes: limits.maxFrameBodyBytes, reuseResponses });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      try {
        this.decoder.end();
      } catch (e) {
        if (e instanceof ChannelError) this.fail(e);
        return;
      }
      socket.end();
    });
    socket.on('error', (e) => {
      if (!this.closed) this.handlers.onError(e);
    });
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.handlers.onClose();
    });
    socket.on('drain', () => {
      this.waitingDrain = false;
      if (this.queuedBytes > 0) this.scheduleFlush();
    });
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** Bytes queued and not yet handed to the socket. */
  get outboxBytes(): number {
    return this.queuedBytes;
  }

  /** Queues a message; returns false when it was dropped (closed or outbox full). */
  send(m: ChannelMessage): boolean {
    if (this.isClosed) return false;
    const len = frameLength(m);
    if (this.queuedBytes + len > this.limits.maxOutboxBytes) {
      this.stats.outboxDropped++;
      return false;
    }
    if (this.stage.length - this.used < len) {
      this.spill();
      if (len > this.stage.length) this.stage = Buffer.allocUnsafe(len);
    }
    this.used = encodeInto(m, this.stage, this.used);
    this.queuedBytes += len;
    this.stats.messagesOut++;
    this.scheduleFlush();
    return true;
  }

  /** Writes everything queued now (normally done from process.nextTick). */
  flush(): void {
    this.flushScheduled = false;
    if (this.isClosed || this.queuedBytes === 0 || this.waitingDrain) return;
    this.spill();
    const out = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [];
    this.queuedBytes = 0;
    this.stats.writes++;
    this.stats.bytesOut += out.length;
    if (!this.socket.write(out)) this.waitingDrain = true;
  }

  /** Sends what is queued plus an optional last message, then closes the write side. */
  end(last?: ChannelMessage): void {
    if (this.isClosed) return;
    if (last) this.send(last);
    this.waitingDrain = false;
    this.flush();
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Moves the staged frames into a buffer of their own size (from Node's pool when small) and empties
   * the stage: one reused staging buffer instead of a fresh 64 KiB buffer per write.
   */
  private spill(): void {
    if (this.used === 0) return;
    const chunk = Buffer.allocUnsafe(this.used);
    this.stage.copy(chunk, 0, 0, this.used);
    this.chunks.push(chunk);
    this.used = 0;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingDrain) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      if (this.flushScheduled) this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed || this.failing) return;
    this.stats.bytesIn += chunk.length;
    try {
      this.decoder.push(chunk, (m) => {
        this.stats.messagesIn++;
        if (!this.isClosed) this.handlers.onMessage(m);
      });
    } catch (e) {
      if (e instanceof ChannelError) this.fail(e);
      else throw e;
    }
  }

  private fail(e: ChannelError): void {
    if (this.isClosed || this.failing) return;
    this.failing = true;
    this.handlers.onError(e);
    this.end({ type: 'error', code: ChannelErrorWireCode.BAD_FRAME, message: `${e.code}: ${e.message}` });
    this.socket.destroySoon();
  }
}
