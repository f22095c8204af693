// What the replicator opens to reach the world, behind interfaces (send/, channel/) so a unit test
// can run it on fakes: the sender of each address family's packets to the targets, and tcpcopy's
// end of the channel to the intercepts. liveReplicatorIo() opens the real ones from the config.
import { RawSender } from '../send/index.js';
import type { PackedPackets, PacketSink, SendCounters } from '../send/index.js';
import { ChannelClient } from '../channel/index.js';
import { Tcpcopy1Client } from '../channel/tcpcopy1/index.js';
import type { ChannelClientOptions, RegistrationClient } from '../channel/index.js';
import type { Logger } from '../log/index.js';
import type { ReplicatorConfig } from './config.js';
import { LinkSender } from './link-send.js';

export interface ReplicatorIo {
  /** Opens the sender of one family's packets to its targets; rejects with NativeIoError. */
  openSender(family: 4 | 6): Promise<PacketSink>;
  /** tcpcopy's end of the channel, reporting through the options' callbacks. */
  openChannel(options: ChannelClientOptions): RegistrationClient;
}

/**
 * Raw IP sent inline, on the main thread, in one sendmmsg per turn: no hand-over to another thread
 * (a postMessage per batch was the largest single cost on the main thread and added a thread wake-up
 * to every relayed reply). What the kernel cannot take now waits in RawSender's retry queue.
 */
class InlineRawSender implements PacketSink {
  constructor(private readonly raw: RawSender) {}

  get closed(): boolean {
    return this.raw.closed;
  }

  send(packets: PackedPackets): boolean {
    if (this.raw.closed) return false;
    return this.raw.sendPacked(packets.bytes, packets.lengths, packets.count) === 0;
  }

  counters(): SendCounters {
    return this.raw.counters();
  }

  async close(): Promise<void> {
    if (this.raw.closed) return;
    await Promise.race([this.raw.flush(), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.raw.close();
  }
}

/** The data-link sender (-o) takes one buffer per packet and copies them before send() returns. */
class LinkTurnSender implements PacketSink {
  constructor(private readonly link: LinkSender) {}

  get closed(): boolean {
    return this.link.closed;
  }

  send(packets: PackedPackets): boolean {
    return this.link.send(packets.packets());
  }

  counters(): SendCounters {
    return this.link.counters();
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/** Raw IP senders (or -o's data-link senders) and a ChannelClient (Tcpcopy1Client with --tcpcopy1). */
export function liveReplicatorIo(config: ReplicatorConfig, logger: Logger): ReplicatorIo {
  return {
    async openSender(family) {
      // -o DEV: Ethernet frames on DEV with the -x MACs (link-send.ts) instead of raw IP.
      const dev = config.outputDevice;
      if (dev === null) {
        const raw = RawSender.open({ family });
        raw.on('error', (e) => logger.error(`raw sender: ${e.message}`));
        return new InlineRawSender(raw);
      }
      const s = await LinkSender.open({
        device: dev,
        transfers: config.transfers.filter((x) => x.target.ip.family === family),
        mtuBytes: config.mtuBytes,
        log: (m) => logger.warn(m),
      });
      s.on('error', (e) => logger.error(`link sender: ${e.message}`));
      return new LinkTurnSender(s);
    },
    // --tcpcopy1: the C TCPCopy 1.x channel format, same client methods.
    openChannel: (options) => new (config.tcpcopy1 ? Tcpcopy1Client : ChannelClient)(options),
  };
}
