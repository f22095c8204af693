// Checksum-offload artefacts in captured packets. A packet the capturing host's own stack (or a
// peer namespace over veth) sent with checksum offload carries CHECKSUM_PARTIAL: its TCP checksum
// field holds only the folded pseudo-header sum, and the NIC (or nobody, on veth) fills in the rest.
// These pure helpers tell such packets apart from corrupt ones and complete their checksum in place.
import { foldSum, onesSum, pseudoSumV4, pseudoSumV6 } from './checksum.js';
import type { PacketDecoder } from './decoder.js';

export type TcpChecksumState = 'valid' | 'partial' | 'bad' | 'not-tcp';

function segmentLength(d: PacketDecoder): number {
  return d.tcpHeaderLength + d.payloadLength;
}

function pseudoSum(d: PacketDecoder): number {
  const len = segmentLength(d);
  return d.ipVersion === 4
    ? pseudoSumV4(d.buf, d.srcOffset, d.buf, d.dstOffset, 6, len)
    : pseudoSumV6(d.buf, d.srcOffset, d.buf, d.dstOffset, 6, len);
}

/**
 * State of the TCP checksum of the packet `d` decoded last: 'valid', 'partial' (the field holds the
 * pseudo-header sum a checksum-offloading sender leaves, and the full checksum does not verify),
 * 'bad', or 'not-tcp' (not TCP, or truncated so the sum cannot be checked).
 */
export function tcpChecksumState(d: PacketDecoder): TcpChecksumState {
  if (!d.isTcp || d.truncated) return 'not-tcp';
  if (d.verifyTcpChecksum()) return 'valid';
  const field = (d.buf[d.tcpOffset + 16]! << 8) | d.buf[d.tcpOffset + 17]!;
  return field === foldSum(pseudoSum(d)) ? 'partial' : 'bad';
}

/**
 * Writes the full TCP checksum into the decoded packet's buffer when its state is 'partial'.
 * Returns true when it changed the packet. Leaves valid and bad packets alone.
 */
export function completeTcpChecksum(d: PacketDecoder): boolean {
  if (tcpChecksumState(d) !== 'partial') return false;
  const t = d.tcpOffset;
  d.buf[t + 16] = 0;
  d.buf[t + 17] = 0;
  const sum = ~foldSum(pseudoSum(d) + onesSum(d.buf, t, segmentLength(d))) & 0xffff;
  d.buf[t + 16] = sum >>> 8;
  d.buf[t + 17] = sum & 0xff;
  return true;
}
