// Live capture on an interface (or `any`), optionally inside a named network namespace, with a
// libpcap BPF filter. The addon polls a TPACKET_V3 ring on the main loop and makes one call per
// batch; this class turns each into a CaptureBatch 'batch' event and keeps the drop counters.
//
// Namespaces: `netns: 'x'` opens the capture inside /run/netns/x while the rest of the process stays
// where it is, so one process can capture in one namespace and send in another. Running the whole
// process under `ip netns exec x node ...` works too (then leave `netns` unset).
import { CaptureBatch } from '../packet/batch.js';
import { callNative } from '../io/errors.js';
import { NativeCapture } from './native-capture.js';
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

export type { CaptureStats, LiveCaptureEvents } from './native-capture.js';

const DEFAULTS = { snaplen: 65535, bufferBytes: 16 << 20, timeoutMs: 1 } as const;

export class LiveCapture extends NativeCapture {
  private constructor(
    native: NativeBinding,
    handle: CaptureHandle,
    opts: LiveCaptureOptions,
    linkType: number,
    snaplen: number,
  ) {
    super(
      {
        stats: () => native.captureStats(handle),
        setRef: (ref) => native.captureSetRef(handle, ref),
        close: () => native.captureClose(handle),
      },
      opts,
      linkType,
      snaplen,
    );
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

  /** Called by the addon's batch callback. */
  private onNative(
    buffer: Buffer | null,
    count: number,
    received: number,
    dropped: number,
    ifDropped: number,
    error?: Error,
  ): void {
    if (this.accept(buffer === null, received, dropped, ifDropped, error))
      this.deliver(new CaptureBatch(buffer!, count, this.linkType));
  }
}
