// Turns an OutgoingSegment description into a finished IP packet (checksums filled in) for the raw sender.

import { buildTcpPacket } from '../packet/index.js';
import type { OutgoingSegment } from './types.js';

export function emitSegment(seg: OutgoingSegment, ipId = 0): Buffer {
  return buildTcpPacket({
    version: seg.version, src: seg.src, dst: seg.dst, srcPort: seg.srcPort, dstPort: seg.dstPort,
    seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, options: [...seg.options],
    payload: seg.payload, id: ipId,
  });
}
