// Shared message fixtures for the channel tests.
import type { ResponseMessage, SessionKey } from '../../src/channel/index.js';

export const V4_SESSION: SessionKey = {
  family: 4,
  clientIp: '10.77.0.2',
  clientPort: 40000,
  targetIp: '10.77.0.3',
  targetPort: 8080,
};
export const V6_SESSION: SessionKey = {
  family: 6,
  clientIp: 'fd00::2',
  clientPort: 40000,
  targetIp: 'fd00::3',
  targetPort: 80,
};

/** A 20-byte TCP header from `sport` to `dport` with the given flags and sequence number. */
export function tcpHeader(
  sport: number,
  dport: number,
  flags: number,
  seq = 0x01020304,
  options: number[] = [],
): Buffer {
  const h = Buffer.alloc(20 + options.length);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(0x05060708, 8);
  h[12] = ((20 + options.length) / 4) << 4;
  h[13] = flags;
  h.writeUInt16BE(0xffff, 14);
  h.writeUInt16BE(0x1234, 16);
  Buffer.from(options).copy(h, 20);
  return h;
}

/** The target's reply for `s` (target → client). */
export function replyFor(s: SessionKey, flags: number, payloadLength = 0, seq = 0x01020304): ResponseMessage {
  return {
    type: 'response',
    family: s.family,
    hopLimit: 64,
    payloadLength,
    src: s.targetIp,
    dst: s.clientIp,
    tcpHeader: tcpHeader(s.targetPort, s.clientPort, flags, seq),
  };
}
