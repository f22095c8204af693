// Turns the packet a PacketDecoder decoded last into the channel RESPONSE intercept sends back to
// tcpcopy: addresses, TTL / hop limit, the whole TCP header with options (copied), payload length. Pure.

import type { ResponseMessage } from '../channel/index.js';
import type { PacketDecoder } from '../packet/index.js';

/** The RESPONSE for the decoded packet, or null when it is not a TCP segment with its whole header. */
export function responseFromDecoder(dec: PacketDecoder): ResponseMessage | null {
  if (!dec.isTcp || dec.isFragment || (dec.ipVersion !== 4 && dec.ipVersion !== 6)) return null;
  const end = dec.tcpOffset + dec.tcpHeaderLength;
  if (dec.tcpHeaderLength < 20 || end > dec.buf.length) return null;
  return {
    type: 'response',
    family: dec.ipVersion,
    hopLimit: dec.ttl,
    payloadLength: dec.wirePayloadLength,
    src: dec.srcAddress(),
    dst: dec.dstAddress(),
    tcpHeader: Buffer.from(dec.buf.subarray(dec.tcpOffset, end)),
  };
}
