// tcpcopy's data-link send edge (-o DEV): the IP packets the engine emits go out as Ethernet frames
// on DEV, so they never pass the online host's IP layer (routing, iptables, conntrack). Each
// frame's destination MAC is the next hop towards its target and its source MAC the online MAC,
// both from the -x item of that target (`[ip:]port@onlineMAC-targetIP:port@nextHopMAC`); the
// frames are injected by a ThreadedLinkInjector on its own thread.
//
// LinkFramer is the pure part (packet → frame); LinkSender is the edge with the same surface as
// ThreadedRawSender (send, counters, close, closed, 'error'), so the replicator uses either.
import { EventEmitter } from 'node:events';
import { NativeIoError } from '../io/index.js';
import { ThreadedLinkInjector } from '../send/index.js';
import type { SendCounters } from '../send/index.js';
import type { IpAddress } from '../packet/index.js';
import type { Transfer } from './transfer.js';
import { ETHERNET_HEADER_LENGTH, EtherType, writeIp, writeMac } from '../packet/index.js';

/** The code counted in SendCounters.errors for a packet whose destination has no MACs in -x. */
export const NO_MAC_ERROR = 'ENOMAC';

function addressKey(bytes: Uint8Array, off: number, len: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + off, len).toString('latin1');
}

function keyOf(ip: IpAddress): string {
  const b = Buffer.alloc(ip.family === 4 ? 4 : 16);
  writeIp(ip.family, ip.text, b, 0);
  return addressKey(b, 0, b.length);
}

/** Turns IPv4/IPv6 packets into Ethernet frames for the targets of the -x items (pure). */
export class LinkFramer {
  /** 14-byte Ethernet headers by the destination address's bytes (latin1). */
  private readonly headers = new Map<string, Buffer>();

  /**
   * `deviceMac` is the source MAC for items without an online MAC. For a target listed in several
   * items the first item's MACs are used (the options refuse items that disagree).
   */
  constructor(transfers: readonly Transfer[], deviceMac: string) {
    for (const t of transfers) {
      if (t.target.mac === null) continue;
      const key = keyOf(t.target.ip);
      if (this.headers.has(key)) continue;
      const h = Buffer.alloc(ETHERNET_HEADER_LENGTH);
      writeMac(t.target.mac, h, 0);
      writeMac(t.online.mac ?? deviceMac, h, 6);
      h.writeUInt16BE(t.target.ip.family === 4 ? EtherType.IPV4 : EtherType.IPV6, 12);
      this.headers.set(key, h);
    }
  }

  /** Targets with a header. */
  get size(): number {
    return this.headers.size;
  }

  /** The frame of one IP packet, or null when it is not IP or its destination has no MACs. */
  frame(packet: Uint8Array): Buffer | null {
    const version = packet.length > 0 ? packet[0]! >>> 4 : 0;
    let header: Buffer | undefined;
    if (version === 4 && packet.length >= 20) header = this.headers.get(addressKey(packet, 16, 4));
    else if (version === 6 && packet.length >= 40) header = this.headers.get(addressKey(packet, 24, 16));
    if (header === undefined) return null;
    const out = Buffer.allocUnsafe(ETHERNET_HEADER_LENGTH + packet.length);
    header.copy(out, 0);
    out.set(packet, ETHERNET_HEADER_LENGTH);
    return out;
  }
}

export interface LinkSenderOptions {
  /** -o: the device the frames go out on. */
  device: string;
  /** The -x items (with MACs). */
  transfers: readonly Transfer[];
  /** Open the packet socket inside /run/netns/<name> (tests). */
  netns?: string;
  /** -M: the largest IP packet the engine emits; a warning is logged when DEV's MTU is smaller. */
  mtuBytes?: number;
  /** Most frame bytes waiting for the send thread. Default 256 MiB. */
  queueBytes?: number;
  /** Start-up notes (MTU, a source MAC that is not DEV's own). */
  log?: (message: string) => void;
}

export interface LinkSenderEvents {
  error: [error: NativeIoError];
}

export class LinkSender extends EventEmitter<LinkSenderEvents> {
  readonly device: string;
  /** DEV's own MAC. */
  readonly mac: string;
  readonly mtu: number;
  private readonly injector: ThreadedLinkInjector;
  private readonly framer: LinkFramer;
  /** Packets without a frame header (destination not in -x, or not IP). */
  private unframed = 0;

  private constructor(injector: ThreadedLinkInjector, framer: LinkFramer) {
    super();
    this.injector = injector;
    this.framer = framer;
    this.device = injector.device;
    this.mac = injector.mac;
    this.mtu = injector.mtu;
    injector.on('error', (e) => this.emit('error', e));
  }

  /**
   * Opens the packet socket on DEV (its own thread). Rejects with NativeIoError: EPERM, ENODEV,
   * ENETNS as LinkInjector.open; EINVAL when DEV has no Ethernet address.
   */
  static async open(opts: LinkSenderOptions): Promise<LinkSender> {
    const injector = await ThreadedLinkInjector.open({
      device: opts.device,
      ...(opts.netns === undefined ? {} : { netns: opts.netns }),
      ...(opts.queueBytes === undefined ? {} : { queueBytes: opts.queueBytes }),
    });
    if (injector.mac === '' || injector.mac === '00:00:00:00:00:00') {
      await injector.close();
      throw new NativeIoError(
        'EINVAL',
        `-o ${opts.device}: the device has no Ethernet address (data-link send needs an Ethernet device)`,
      );
    }
    const log = opts.log ?? ((): void => undefined);
    if (opts.mtuBytes !== undefined && opts.mtuBytes > injector.mtu) {
      log(
        `-o ${opts.device}: its MTU is ${injector.mtu}, less than -M ${opts.mtuBytes}: larger packets will fail (EMSGSIZE); lower -M`,
      );
    }
    const foreign = [
      ...new Set(opts.transfers.map((t) => t.online.mac).filter((m): m is string => m !== null && m !== injector.mac)),
    ];
    if (foreign.length > 0) {
      log(
        `-o ${opts.device}: frames go out with source MAC ${foreign.join(', ')} as given in -x; ${opts.device}'s own is ${injector.mac}`,
      );
    }
    return new LinkSender(injector, new LinkFramer(opts.transfers, injector.mac));
  }

  get closed(): boolean {
    return this.injector.closed;
  }

  /**
   * Frames the IP packets and hands them to the send thread, in order. Returns false when the
   * thread refused them (queue full or closed). Packets without MACs are counted (ENOMAC).
   */
  send(packets: readonly Uint8Array[]): boolean {
    const frames: Buffer[] = [];
    for (const p of packets) {
      const f = this.framer.frame(p);
      if (f === null) this.unframed++;
      else frames.push(f);
    }
    return this.injector.send(frames);
  }

  /** The send thread's counters, plus the packets that had no MACs (failed, ENOMAC). */
  counters(): SendCounters {
    const c = this.injector.counters();
    if (this.unframed === 0) return c;
    return {
      ...c,
      packets: c.packets + this.unframed,
      failed: c.failed + this.unframed,
      errors: { ...c.errors, [NO_MAC_ERROR]: (c.errors[NO_MAC_ERROR] ?? 0) + this.unframed },
    };
  }

  /** Sends what was handed over, then closes the socket and its thread. Idempotent. */
  close(): Promise<void> {
    return this.injector.close();
  }
}
