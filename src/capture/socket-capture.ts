// Live capture on a named Ethernet or loopback device through a packet socket without a ring
// (native/src/rxsock.c), on the thread that opens it. The first packet after a quiet period wakes
// the loop at once (no TPACKET_V3 block timeout); under load each read returns up to `batch`
// packets. The kernel socket buffer (`bufferBytes`) is the queue while the loop is busy: a readable
// event reads for at most `sliceMs`, then the loop's other I/O and timers run before the next read.
//
// Zero allocation per packet or batch: every 'batch' event hands out a CaptureBatch over the same
// staging buffer, valid only while the handler runs. A handler that keeps packets copies them.
// Use LiveCapture/ThreadedCapture for 'any' or other link types (the open fails with ENOTSUP).
import { CaptureBatch } from '../packet/batch.js';
import { callNative } from '../io/errors.js';
import { NativeCapture } from './native-capture.js';
import { loadNative } from '../io/native.js';
import type { NativeBinding, RxHandle } from '../io/native.js';

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

export class SocketCapture extends NativeCapture {
  private readonly buffer: Buffer;
  private readonly slots: number;

  private constructor(
    native: NativeBinding,
    info: { handle: RxHandle; buffer: Buffer; batch: number; linkType: number; snaplen: number },
    opts: SocketCaptureOptions,
  ) {
    const handle = info.handle;
    super(
      {
        stats: () => native.rxStats(handle),
        setRef: (ref) => native.rxSetRef(handle, ref),
        close: () => native.rxClose(handle),
      },
      opts,
      info.linkType,
      info.snaplen,
    );
    this.buffer = info.buffer;
    this.slots = info.batch;
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
        (count, received, dropped, ifDropped, error) =>
          box.capture?.onNative(count, received, dropped, ifDropped, error),
      ),
    );
    box.capture = new SocketCapture(native, info, opts);
    return box.capture;
  }

  private onNative(count: number, received: number, dropped: number, ifDropped: number, error?: Error): void {
    if (this.accept(count < 0, received, dropped, ifDropped, error)) {
      this.deliver(new CaptureBatch(this.buffer, count, this.linkType, this.slots));
    }
  }
}
