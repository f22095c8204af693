// Raw IPv4 / IPv6 sender: the caller supplies complete IP packets (header included, checksums of
// the transport layer done); each goes to the destination in its own IP header. The kernel fills
// the IPv4 header checksum (and the source address / id when they are 0). Packets larger than the
// path MTU fail with EMSGSIZE. Batches go out with sendmmsg; see PacketSender for the outcome and
// retry rules. `netns` opens the socket inside /run/netns/<name>.
// Limits: a packet the qdisc drops is not reported (Linux hides ENOBUFS on raw IP sockets without
// IP_RECVERR; it shows in the interface's tx_dropped); IPv6 link-local destinations (no scope id)
// are not supported.
import { callNative } from '../io/errors.js';
import { loadNative } from '../io/native.js';
import type { NativeBinding, SocketHandle } from '../io/native.js';
import { PacketSender } from './packet-sender.js';
import type { PacketSenderOptions } from './packet-sender.js';

export interface RawSenderOptions extends PacketSenderOptions {
  family: 4 | 6;
  netns?: string;
  /** Requested SO_SNDBUF in bytes (forced past wmem_max when root). Default 8 MiB. */
  sndbuf?: number;
}

export class RawSender extends PacketSender {
  readonly family: 4 | 6;
  readonly netns: string | undefined;

  private constructor(native: NativeBinding, handle: SocketHandle, opts: RawSenderOptions) {
    super(native, handle, `RawSender (IPv${opts.family})`, opts);
    this.family = opts.family;
    this.netns = opts.netns;
  }

  /** Opens the raw socket. Throws NativeIoError: EPERM (needs root or CAP_NET_RAW), ENETNS. */
  static open(opts: RawSenderOptions): RawSender {
    if (opts.family !== 4 && opts.family !== 6)
      throw new RangeError(`family must be 4 or 6, got ${String(opts.family)}`);
    const native = loadNative();
    const info = callNative(() => native.rawOpen(opts.family, opts.sndbuf ?? 8 << 20, opts.netns ?? null));
    return new RawSender(native, info.handle, opts);
  }
}
