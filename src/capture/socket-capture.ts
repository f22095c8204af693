// Live capture on a named Ethernet or loopback device through a packet socket without a ring
// (native/src/rxsock.c), on the thread that opens it. The first packet after a quiet period wakes
// the loop at once (no TPACKET_V3 block timeout); under load each read returns up to `batch`
// packets. The kernel socket buffer (`bufferBytes`) is the queue while the loop is busy: a readable
// event reads for at most `sliceMs`, then the loop's other I/O and timers run before the next read.
//
// Zero allocation per packet or batch: every 'batch' event hands out a CaptureBatch over the same
// staging buffer, valid only while the handler runs. A handler that keeps packets copies them.
// Use LiveCapture/ThreadedCapture for 'any' or other link types (the open fails with ENOTSUP).
import { EventEmitter } from 'node:events';
import { CaptureBatch } from '../packet/batch.js';
import { NativeIoError, callNative, wrapNativeError } from '../io/errors.js';
import { loadNative } from '../io/native.js';
import type { NativeBinding, RxHandle } from '../io/native.js';
import type { CaptureStats, LiveCaptureEvents } from './live-capture.js';

export interface SocketCaptureOptions {
  /** A named Ethernet or loopback interface (not 'any'). */
  device: string;
  /** libpcap filter expression, compiled for Ethernet ('' or omitted: everything). */
  filter?: string;
  /** Bytes kept per packet. Default 65535 (room for GRO super-packets). */
  snaplen?: number;
  /** The socket's receive buffer in bytes. Default 32 MiB. */
  bufferBytes?: number;
  /** Most ms one readable event spends reading. Default 4. */
  sliceMs?: number;
  promisc?: boolean;
  /** Name of a network namespace under /run/netns to capture in. */
  netns?: string;
}

const DEFAULTS = { snaplen: 65535, bufferBytes: 32 << 20, sliceMs: 4 } as const;

export class SocketCapture extends EventEmitter<LiveCaptureEvents> {
  readonly device: string;
  readonly filter: string;
  readonly netns: string | undefined;
  /** LINKTYPE_ETHERNET (1): loopback frames carry an Ethernet header too. */
  readonly linkType: number;
  readonly snaplen: number;
  readonly #native: NativeBinding;
  readonly #handle: RxHandle;
  readonly #buffer: Buffer;
  readonly #slots: number;
  #closed = false;
  #received = 0;
  #dropped = 0;
  #ifDropped = 0;
  #packets = 0;
  #batches = 0;

  private constructor(native: NativeBinding, info: { handle: RxHandle; buffer: Buffer; batch: number; linkType: number; snaplen: number }, opts: SocketCaptureOptions) {
    super();
    this.#native = native;
    this.#handle = info.handle;
    this.#buffer = info.buffer;
    this.#slots = info.batch;
    this.device = opts.device;
    this.filter = opts.filter ?? '';
    this.netns = opts.netns;
    this.linkType = info.linkType;
    this.snaplen = info.snaplen;
  }

  /** Opens and starts capturing. Throws NativeIoError: EPERM, ENODEV, ENOTSUP, EBADFILTER, ENETNS, ENETDOWN. */
  static open(opts: SocketCaptureOptions): SocketCapture {
    const native = loadNative();
    const box: { capture?: SocketCapture } = {};
    const info = callNative(() =>
      native.rxOpen(
        {
          device: opts.device,
          filter: opts.filter ?? '',
          snaplen: opts.snaplen ?? DEFAULTS.snaplen,
          bufferBytes: opts.bufferBytes ?? DEFAULTS.bufferBytes,
          sliceMs: opts.sliceMs ?? DEFAULTS.sliceMs,
          promisc: opts.promisc ?? false,
          netns: opts.netns ?? null,
        },
        (count, received, dropped, ifDropped, error) => box.capture?.onNative(count, received, dropped, ifDropped, error),
      ),
    );
    box.capture = new SocketCapture(native, info, opts);
    return box.capture;
  }

  private onNative(count: number, received: number, dropped: number, ifDropped: number, error?: Error): void {
    this.#received = received;
    this.#dropped = dropped;
    this.#ifDropped = ifDropped;
    if (this.#closed) return;
    if (count < 0) {
      const e = wrapNativeError(error);
      this.emit('error', e instanceof NativeIoError ? e : new NativeIoError('EPCAP', String(error), { cause: error }));
      return;
    }
    this.#packets += count;
    this.#batches++;
    this.emit('batch', new CaptureBatch(this.#buffer, count, this.linkType, this.#slots));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Counters since open; fresh from the kernel while open, the last values after close. */
  stats(): CaptureStats {
    if (!this.#closed) {
      const [received, dropped, ifDropped] = this.#native.rxStats(this.#handle);
      this.#received = received;
      this.#dropped = dropped;
      this.#ifDropped = ifDropped;
    }
    return { received: this.#received, dropped: this.#dropped, ifDropped: this.#ifDropped, packets: this.#packets, batches: this.#batches };
  }

  unref(): this {
    if (!this.#closed) this.#native.rxSetRef(this.#handle, false);
    return this;
  }

  ref(): this {
    if (!this.#closed) this.#native.rxSetRef(this.#handle, true);
    return this;
  }

  /** Stops capturing and closes the socket; idempotent (also from a 'batch' handler). Queued packets are discarded. */
  close(): void {
    if (this.#closed) return;
    this.stats();
    this.#closed = true;
    this.#native.rxClose(this.#handle);
    this.emit('close');
  }
}
