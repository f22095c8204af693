// A LinkInjector on its own thread, the data-link counterpart of ThreadedRawSender: send() hands
// whole frames (link header included) to the shared send worker (threaded-sender.ts: bounded,
// ordered, transferred without a copy), so the calling thread never waits for the kernel — over
// veth a sendmmsg on a packet socket runs the receiver's softirq work in the sender's context too.
import type { LinkInjectorOptions } from './link-injector.js';
import { ThreadedSender, startSendThread } from './threaded-sender.js';
import type { ThreadedSenderEvents, ThreadedSenderOptions } from './threaded-sender.js';

export interface ThreadedLinkInjectorOptions extends LinkInjectorOptions, ThreadedSenderOptions {}

/** What the worker found out about the device when it opened the socket. */
export interface LinkDeviceInfo {
  ifindex: number;
  mtu: number;
  /** "aa:bb:cc:dd:ee:ff", "" when the device has no Ethernet address. */
  mac: string;
  sndbuf: number;
}

export type ThreadedLinkInjectorEvents = ThreadedSenderEvents;

export class ThreadedLinkInjector extends ThreadedSender {
  readonly device: string;
  readonly ifindex: number;
  readonly mtu: number;
  /** The device's own MAC, "" when it has none. */
  readonly mac: string;

  private constructor(started: Awaited<ReturnType<typeof startSendThread>>, device: string) {
    super(started, 'link inject thread');
    this.device = device;
    this.ifindex = started.ready.info.ifindex ?? 0;
    this.mtu = started.ready.info.mtu ?? 0;
    this.mac = started.ready.info.mac ?? '';
  }

  /**
   * Opens the packet socket on `device` in a new worker thread. Rejects like LinkInjector.open (EPERM, ENODEV,
   * ENETNS).
   */
  static open(opts: ThreadedLinkInjectorOptions): Promise<ThreadedLinkInjector> {
    const { queueBytes, statsIntervalMs, ...options } = opts;
    return startSendThread(
      { kind: 'link', options },
      {
        ...(queueBytes === undefined ? {} : { queueBytes }),
        ...(statsIntervalMs === undefined ? {} : { statsIntervalMs }),
      },
      'link inject thread',
    ).then((started) => new ThreadedLinkInjector(started, options.device));
  }
}
