// Live capture on an interface (or `any`), optionally inside a named network namespace, with a
// libpcap BPF filter. The addon polls a TPACKET_V3 ring on the main loop and makes one call per
// batch; this class turns each into a CaptureBatch 'batch' event and keeps the drop counters.
//
// Namespaces: `netns: 'x'` opens the capture inside /run/netns/x while the rest of the process stays
// where it is, so one process can capture in one namespace and send in another. Running the whole
// process under `ip netns exec x node ...` works too (then leave `netns` unset).
import { EventEmitter } from 'node:events';
import { CaptureBatch } from '../packet/batch.js';
import { NativeIoError, callNative, wrapNativeError } from '../io/errors.js';
import { loadNative } from '../io/native.js';
import type { CaptureHandle, NativeBinding } from '../io/native.js';

export interface LiveCaptureOptions {
  /** Interface name, or 'any' (Linux cooked headers). */
  device: string;
  /** libpcap filter expression ('' or omitted: everything). */
  filter?: string;
  /** Bytes kept per packet. Default 65535 (room for GRO/TSO super-packets). */
  snaplen?: number;
  /** Kernel ring size in bytes. Default 16 MiB, at least 64 KiB. */
  bufferBytes?: number;
  /** TPACKET_V3 block timeout in ms (the delivery latency bound). Default 1; 0 = immediate mode. */
  timeoutMs?: number;
  /** Promiscuous mode. Default false. */
  promisc?: boolean;
  /** Name of a network namespace under /run/netns to capture in. */
  netns?: string;
}

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

const DEFAULTS = { snaplen: 65535, bufferBytes: 16 << 20, timeoutMs: 1 } as const;

export class LiveCapture extends EventEmitter<LiveCaptureEvents> {
  readonly device: string;
  readonly filter: string;
  readonly netns: string | undefined;
  /** LINKTYPE_* of the packets (pcap_datalink), e.g. 1 Ethernet, 113 Linux cooked (any). */
  readonly linkType: number;
  readonly snaplen: number;
  readonly #native: NativeBinding;
  readonly #handle: CaptureHandle;
  #closed = false;
  #received = 0;
  #dropped = 0;
  #ifDropped = 0;
  #packets = 0;
  #batches = 0;

  private constructor(native: NativeBinding, handle: CaptureHandle, opts: LiveCaptureOptions, linkType: number, snaplen: number) {
    super();
    this.#native = native;
    this.#handle = handle;
    this.device = opts.device;
    this.filter = opts.filter ?? '';
    this.netns = opts.netns;
    this.linkType = linkType;
    this.snaplen = snaplen;
  }

  /** Opens and starts capturing. Throws NativeIoError: EPERM, ENODEV, EBADFILTER, ENETNS, ENETDOWN, EPCAP. */
  static open(opts: LiveCaptureOptions): LiveCapture {
    const native = loadNative();
    const box: { capture?: LiveCapture } = {};
    const info = callNative(() =>
      native.captureOpen(
        {
          device: opts.device,
          filter: opts.filter ?? '',
          snaplen: opts.snaplen ?? DEFAULTS.snaplen,
          bufferBytes: opts.bufferBytes ?? DEFAULTS.bufferBytes,
          timeoutMs: opts.timeoutMs ?? DEFAULTS.timeoutMs,
          promisc: opts.promisc ?? false,
          netns: opts.netns ?? null,
        },
        (buffer, count, received, dropped, ifDropped, error) => {
          box.capture?.onNative(buffer, count, received, dropped, ifDropped, error);
        },
      ),
    );
    box.capture = new LiveCapture(native, info.handle, opts, info.linkType, info.snaplen);
    return box.capture;
  }

  /** Checks a filter expression for a link type without opening anything (no privileges needed). */
  static compileFilter(filter: string, linkType: number, snaplen: number = DEFAULTS.snaplen): number {
    const native = loadNative();
    return callNative(() => native.compileFilter(linkType, snaplen, filter));
  }

  /** @internal Called by the addon's batch callback. */
  private onNative(buffer: Buffer | null, count: number, received: number, dropped: number, ifDropped: number, error?: Error): void {
    this.#received = received;
    this.#dropped = dropped;
    this.#ifDropped = ifDropped;
    if (this.#closed) return;
    if (buffer === null) {
      const e = wrapNativeError(error);
      this.emit('error', e instanceof NativeIoError ? e : new NativeIoError('EPCAP', String(error), { cause: error }));
      return;
    }
    this.#packets += count;
    this.#batches++;
    this.emit('batch', new CaptureBatch(buffer, count, this.linkType));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Counters since open; fresh from the kernel while open, the last values after close. */
  stats(): CaptureStats {
    if (!this.#closed) {
      const [received, dropped, ifDropped] = this.#native.captureStats(this.#handle);
      this.#received = received;
      this.#dropped = dropped;
      this.#ifDropped = ifDropped;
    }
    return { received: this.#received, dropped: this.#dropped, ifDropped: this.#ifDropped, packets: this.#packets, batches: this.#batches };
  }

  /** An open capture keeps the process alive (default); unref() lets it exit anyway. */
  unref(): this {
    if (!this.#closed) this.#native.captureSetRef(this.#handle, false);
    return this;
  }

  ref(): this {
    if (!this.#closed) this.#native.captureSetRef(this.#handle, true);
    return this;
  }

  /** Stops capturing and frees the ring; idempotent. Packets still in the ring are discarded. */
  close(): void {
    if (this.#closed) return;
    this.stats();
    this.#closed = true;
    this.#native.captureClose(this.#handle);
    this.emit('close');
  }
}
