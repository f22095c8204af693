// Conversions at tcpcopy's edges (pure): a decoded captured packet → the engine's ClientSegment,
// and a channel RESPONSE (the target's reply header) → the engine's TargetHeader.

import { TcpOptionSummary, readTcpOptionSummary } from '../packet/index.js';
import type { PacketDecoder } from '../packet/index.js';
import type { ResponseMessage } from '../channel/index.js';
import type { ClientSegment, TargetHeader, TcpOptionValues } from '../session/index.js';

function optionValues(s: TcpOptionSummary): TcpOptionValues {
  return { mss: s.mss, windowScale: s.windowScale, sackPermitted: s.sackPermitted, hasTimestamps: s.hasTimestamps, tsval: s.tsval, tsecr: s.tsecr };
}

/**
 * The ClientSegment of the packet `dec` decoded last, or null when it is not a whole TCP segment
 * (not TCP, a fragment, or cut by the snaplen). The payload is a view into the capture buffer:
 * the engine copies what it keeps, so it must be used before the batch is released.
 */
export function clientSegmentFromDecoder(dec: PacketDecoder, scratch: TcpOptionSummary = new TcpOptionSummary()): ClientSegment | null {
  if (!dec.isTcp || dec.isFragment || dec.truncated || (dec.ipVersion !== 4 && dec.ipVersion !== 6)) return null;
  dec.readTcpOptions(scratch);
  return {
    version: dec.ipVersion, src: dec.srcAddress(), srcPort: dec.srcPort, dst: dec.dstAddress(), dstPort: dec.dstPort,
    seq: dec.seq, ack: dec.ack, flags: dec.flags, window: dec.window, options: optionValues(scratch), payload: dec.payload(),
  };
}

/** The TargetHeader carried by a channel RESPONSE (ports, numbers, flags and options from its TCP header). */
export function targetHeaderFromResponse(r: ResponseMessage, scratch: TcpOptionSummary = new TcpOptionSummary()): TargetHeader {
  const h = r.tcpHeader;
  const headerLength = (h[12] ?? 0) >> 4 << 2;
  readTcpOptionSummary(h, 20, Math.max(0, Math.min(h.length, headerLength) - 20), scratch);
  return {
    src: r.sourceIp, srcPort: h.readUInt16BE(0), dst: r.destinationIp, dstPort: h.readUInt16BE(2),
    seq: h.readUInt32BE(4), ack: h.readUInt32BE(8), flags: h.readUInt16BE(12) & 0x1ff, window: h.readUInt16BE(14),
    options: optionValues(scratch), payloadLength: r.payloadLength,
  };
}
