// What the services read packets from, whatever produces them: a live capture (LiveCapture,
// SocketCapture, ThreadedCapture), the offline replay's pcap source, or a test's fake.
import type { CaptureBatch } from '../packet/batch.js';

/** Emits 'batch' and 'error' like the captures; stats() counts the packets it could not deliver. */
export interface PacketSource {
  on(event: 'batch', listener: (b: CaptureBatch) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  stats(): { dropped: number };
  /** Stops delivering; a promise it returns (closing a thread) is awaited. */
  close(): unknown;
}
