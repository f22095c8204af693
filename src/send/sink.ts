// What tcpcopy sends its packets to the target with: raw IP on the main thread, the data-link
// sender (-o), or a test's fake. One call per event-loop turn with all of that turn's packets.
import type { SendCounters } from './packet-sender.js';

/** Packets back to back in one buffer (the session engine's SegmentArena is one). */
export interface PackedPackets {
  readonly bytes: Uint8Array;
  /** Entries [0, count) are the packets' lengths. */
  readonly lengths: Uint32Array;
  readonly count: number;
  /** Each packet as a view into `bytes`, for senders that take one buffer per packet. */
  packets(): Uint8Array[];
}

export interface PacketSink {
  readonly closed: boolean;
  /** Sends the packets (copied or sent before it returns); false when some were refused. */
  send(packets: PackedPackets): boolean;
  /** Packets that failed for good are counted here (`failed`), not reported one by one. */
  counters(): SendCounters;
  /** Sends what is still queued (within a bound), then closes. */
  close(): Promise<void>;
}
