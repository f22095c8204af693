// Data-link frame injector on one named interface (AF_PACKET, SOCK_RAW, bound to the interface):
// the caller supplies whole frames with their link header (Ethernet: dst MAC, src MAC, ethertype).
// Frames longer than the MTU plus the link header fail with EMSGSIZE. Batches go out with sendmmsg;
// see PacketSender for the outcome and retry rules. `netns` opens the socket inside /run/netns/<name>.
import { callNative } from '../io/errors.js';
import { loadNative } from '../io/native.js';
import type { NativeBinding, NativeLinkInfo } from '../io/native.js';
import { PacketSender } from './packet-sender.js';
import type { PacketSenderOptions } from './packet-sender.js';

export interface LinkInjectorOptions extends PacketSenderOptions {
  device: string;
  netns?: string;
  /** Skip the interface's qdisc (PACKET_QDISC_BYPASS): faster, no traffic shaping/netem. Default false. */
  qdiscBypass?: boolean;
  /** Requested SO_SNDBUF in bytes. Default 8 MiB. */
  sndbuf?: number;
}

export class LinkInjector extends PacketSender {
  readonly device: string;
  readonly netns: string | undefined;
  readonly ifindex: number;
  readonly mtu: number;
  /** The interface's own MAC ("aa:bb:..."), "" when it has none. */
  readonly mac: string;

  private constructor(native: NativeBinding, info: NativeLinkInfo, opts: LinkInjectorOptions) {
    super(native, info.handle, `LinkInjector (${opts.device})`, opts);
    this.device = opts.device;
    this.netns = opts.netns;
    this.ifindex = info.ifindex;
    this.mtu = info.mtu;
    this.mac = info.mac;
  }

  /** Opens the packet socket. Throws NativeIoError: EPERM, ENODEV (names the device), ENETNS. */
  static open(opts: LinkInjectorOptions): LinkInjector {
    const native = loadNative();
    const info = callNative(() =>
      native.linkOpen(opts.device, opts.netns ?? null, opts.qdiscBypass ?? false, opts.sndbuf ?? 8 << 20),
    );
    return new LinkInjector(native, info, opts);
  }
}
