// What the addon's two capture handles have in common on the JS side (libpcap's TPACKET_V3 ring in
// LiveCapture, the packet socket in SocketCapture): the counters each callback brings, a failure
// turned into one 'error' event, batches counted and emitted, ref/unref, stats and an idempotent close.
// Each subclass supplies only how to open its handle and how to reach it (CaptureHandleOps).
import { EventEmitter } from 'node:events';
import type { CaptureBatch } from '../packet/batch.js';
import { NativeIoError, wrapNativeError } from '../io/errors.js';

export interface CaptureStats {
  /**
   * Packets that passed the filter in the kernel, including the dropped ones (so received =
   * delivered + dropped once the ring is drained). On 'lo' and 'any' it also counts the outgoing
   * copies of loopback packets that libpcap discards as duplicates.
   */
  received: number;
  /** Packets the kernel (ring full) or the staging area dropped. */
  dropped: number;
  /** Packets the interface dropped (rx_dropped since open; 0 for 'any'). */
  ifDropped: number;
  /** Packets and batches delivered to JS. */
  packets: number;
  batches: number;
}

/**
 * 'batch' handlers run on the main thread inside the addon's poll callback; an exception thrown by
 * one is an uncaught exception of the process, as with any event handler. Without an 'error'
 * listener a capture failure is thrown the same way (EventEmitter rules).
 */
export interface LiveCaptureEvents {
  batch: [batch: CaptureBatch];
  /** The capture failed (e.g. the interface went away); it delivers nothing more. */
  error: [error: NativeIoError];
  close: [];
}

/** How to reach one open native capture handle. */
export interface CaptureHandleOps {
  /** [received, dropped, ifDropped] from the kernel now. */
  stats(): readonly [number, number, number];
  setRef(ref: boolean): void;
  close(): void;
}

export interface CaptureIdentity {
  readonly device: string;
  readonly filter?: string | undefined;
  readonly netns?: string | undefined;
}

export abstract class NativeCapture extends EventEmitter<LiveCaptureEvents> {
  readonly device: string;
  readonly filter: string;
  readonly netns: string | undefined;
  /** LINKTYPE_* of the packets, e.g. 1 Ethernet, 113 Linux cooked (any). */
  readonly linkType: number;
  readonly snaplen: number;
  private readonly ops: CaptureHandleOps;
  private isClosed = false;
  private received = 0;
  private dropped = 0;
  private ifDropped = 0;
  private packets = 0;
  private batches = 0;

  protected constructor(ops: CaptureHandleOps, id: CaptureIdentity, linkType: number, snaplen: number) {
    super();
    this.ops = ops;
    this.device = id.device;
    this.filter = id.filter ?? '';
    this.netns = id.netns;
    this.linkType = linkType;
    this.snaplen = snaplen;
  }

  /**
   * Takes the counters of one addon callback. False when there is nothing to deliver: the capture is
   * closed, or it failed (then one 'error' event carries the addon's error).
   */
  protected accept(failed: boolean, received: number, dropped: number, ifDropped: number, error?: Error): boolean {
    this.received = received;
    this.dropped = dropped;
    this.ifDropped = ifDropped;
    if (this.isClosed) return false;
    if (!failed) return true;
    const e = wrapNativeError(error);
    this.emit('error', e instanceof NativeIoError ? e : new NativeIoError('EPCAP', String(error), { cause: error }));
    return false;
  }

  /** Counts and emits one batch the addon delivered. */
  protected deliver(batch: CaptureBatch): void {
    this.packets += batch.count;
    this.batches++;
    this.emit('batch', batch);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Counters since open; fresh from the kernel while open, the last values after close. */
  stats(): CaptureStats {
    if (!this.isClosed) [this.received, this.dropped, this.ifDropped] = this.ops.stats();
    return {
      received: this.received,
      dropped: this.dropped,
      ifDropped: this.ifDropped,
      packets: this.packets,
      batches: this.batches,
    };
  }

  /** An open capture keeps the process alive (default); unref() lets it exit anyway. */
  unref(): this {
    if (!this.isClosed) this.ops.setRef(false);
    return this;
  }

  ref(): this {
    if (!this.isClosed) this.ops.setRef(true);
    return this;
  }

  /** Stops capturing and frees the handle; idempotent (also from a 'batch' handler). Queued packets are discarded. */
  close(): void {
    if (this.isClosed) return;
    this.stats();
    this.isClosed = true;
    this.ops.close();
    this.emit('close');
  }
}
