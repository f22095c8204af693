// Turns the packet a PacketDecoder decoded last into the channel RESPONSE intercept sends back to
// tcpcopy: addresses, TTL / hop limit, the whole TCP header with options (copied), payload length, and
// (when asked) the first captured bytes of the payload. Pure.

import type { ResponseMessage } from '../channel/index.js';
import type { PacketDecoder } from '../packet/index.js';

/**
 * The RESPONSE for the decoded packet, or null when it is not a TCP segment with its whole header.
 * payloadBytes > 0: `payload` holds a copy of up to that many captured payload bytes (the capture's
 * snaplen may have cut them shorter); 0: no payload.
 */
export function responseFromDecoder(dec: PacketDecoder, payloadBytes = 0): ResponseMessage | null {
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
    // None for a reply without payload bytes (a SYN-ACK, an RST): it goes as a plain RESPONSE.
    payload: payloadBytes > 0 && dec.wirePayloadLength > 0 ? capturedPayload(dec, payloadBytes) : undefined,
  };
}

/** A copy of up to `most` payload bytes of the decoded packet, as far as they were captured. */
export function capturedPayload(dec: PacketDecoder, most: number): Buffer {
  const start = dec.payloadOffset;
  return Buffer.from(dec.buf.subarray(start, start + Math.min(dec.payloadLength, most)));
}
