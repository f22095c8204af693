// Conversions at tcpcopy's edges (pure): a decoded captured packet → the engine's ClientSegment,
// and a channel RESPONSE (the target's reply header) → the engine's TargetHeader.

import { TcpOptionSummary, readTcpOptionSummary } from '../packet/index.js';
import type { PacketDecoder } from '../packet/index.js';
import type { ResponseMessage } from '../channel/index.js';
import { blankClientSegment, blankOptionValues } from '../session/index.js';
import type { ClientSegment, Mutable, ScratchClientSegment, TargetHeader, TcpOptionValues } from '../session/index.js';

function fillOptions(o: Mutable<TcpOptionValues>, s: TcpOptionSummary): void {
  o.mss = s.mss;
  o.windowScale = s.windowScale;
  o.sackPermitted = s.sackPermitted;
  o.hasTimestamps = s.hasTimestamps;
  o.tsval = s.tsval;
  o.tsecr = s.tsecr;
}

/**
 * One ClientSegment and one TargetHeader rewritten in place for every packet and reply (the engine
 * reads them during the call and copies what it keeps, as with ClientRewriter's segments): no
 * object per packet on the live path.
 */
export class ConvertScratch {
  readonly options = new TcpOptionSummary();
  readonly segment: ScratchClientSegment = blankClientSegment();
  readonly header: Mutable<TargetHeader> & { options: Mutable<TcpOptionValues> } = {
    src: '',
    srcPort: 0,
    dst: '',
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    options: blankOptionValues(),
    payloadLength: 0,
    payload: undefined,
  };
}

/** clientSegmentFromDecoder into `scratch.segment` (valid until the next call with it). */
export function clientSegmentInto(dec: PacketDecoder, scratch: ConvertScratch): ClientSegment | null {
  if (!dec.isTcp || dec.isFragment || dec.truncated || (dec.ipVersion !== 4 && dec.ipVersion !== 6)) return null;
  dec.readTcpOptions(scratch.options);
  const o = scratch.segment;
  o.family = dec.ipVersion;
  o.src = dec.srcAddress();
  o.srcPort = dec.srcPort;
  o.dst = dec.dstAddress();
  o.dstPort = dec.dstPort;
  o.seq = dec.seq;
  o.ack = dec.ack;
  o.flags = dec.flags;
  o.window = dec.window;
  fillOptions(o.options, scratch.options);
  o.payload = dec.payload();
  return o;
}

/** targetHeaderFromResponse into `scratch.header` (valid until the next call with it). */
export function targetHeaderInto(r: ResponseMessage, scratch: ConvertScratch): TargetHeader {
  const h = r.tcpHeader;
  const headerLength = ((h[12] ?? 0) >> 4) << 2;
  readTcpOptionSummary(h, 20, Math.max(0, Math.min(h.length, headerLength) - 20), scratch.options);
  const o = scratch.header;
  // Byte reads by hand (the header is at least 20 bytes: the codec checked its data offset);
  // Buffer#readUInt*BE checks its arguments on every call.
  o.src = r.src;
  o.srcPort = (h[0]! << 8) | h[1]!;
  o.dst = r.dst;
  o.dstPort = (h[2]! << 8) | h[3]!;
  o.seq = ((h[4]! << 24) | (h[5]! << 16) | (h[6]! << 8) | h[7]!) >>> 0;
  o.ack = ((h[8]! << 24) | (h[9]! << 16) | (h[10]! << 8) | h[11]!) >>> 0;
  o.flags = ((h[12]! << 8) | h[13]!) & 0x1ff;
  o.window = (h[14]! << 8) | h[15]!;
  fillOptions(o.options, scratch.options);
  o.payloadLength = r.payloadLength;
  o.payload = r.payload;
  return o;
}

/**
 * The ClientSegment of the packet `dec` decoded last, or null when it is not a whole TCP segment
 * (not TCP, a fragment, or cut by the snaplen). The payload is a view into the capture buffer:
 * the engine copies what it keeps, so it must be used before the batch is released.
 */
export function clientSegmentFromDecoder(dec: PacketDecoder): ClientSegment | null {
  const seg = clientSegmentInto(dec, new ConvertScratch());
  return seg === null ? null : { ...seg, options: { ...seg.options } };
}

/** The TargetHeader carried by a channel RESPONSE (ports, numbers, flags and options from its TCP header). */
export function targetHeaderFromResponse(r: ResponseMessage): TargetHeader {
  const hdr = targetHeaderInto(r, new ConvertScratch());
  return { ...hdr, options: { ...hdr.options } };
}
