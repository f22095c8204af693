// Folds back-to-back replies of one session, captured in the same batch, into one RESPONSE (as the
// kernel's GRO folds segments): a web server writes a response's headers and its body in two calls,
// two segments that intercept mostly captures together. tcpcopy needs what the pair says — the
// target's last acknowledgement and window, the response bytes, where they end, whether a PSH or FIN
// came — not the segments one by one: one message instead of two halves the channel's messages and
// tcpcopy's work per reply. Only payload-carrying, in-order segments are folded, so no duplicate
// acknowledgement (tcpcopy's retransmission signal) and no SYN or RST is ever hidden; a folded reply
// may stand for several segments, so tcpcopy counts unacknowledged bytes as well as replies when it
// decides to acknowledge at once. A reply carrying payload bytes (for a session that asked) carries
// the folded segments' bytes after its own, up to its bound and only while they are contiguous (a
// segment the snaplen cut ends the prefix). Pure: no I/O.

import type { ResponseMessage } from '../channel/index.js';
import { TcpFlags } from '../packet/index.js';
import type { PacketDecoder } from '../packet/index.js';
import { capturedPayload } from './response.js';

const { FIN, SYN, RST, PSH, ACK, URG } = TcpFlags;

/** Offsets in a TCP header. */
const SEQ_AT = 4;
const FLAGS_AT = 13;

/** The pending reply: its message and what the next segment must match to be folded into it. */
export class ReplyCoalescer {
  private pending: ResponseMessage | null = null;
  private family = 0;
  private srcPort = 0;
  private dstPort = 0;
  /** IPv4 addresses as numbers (IPv6: compared as text, only once the ports matched). */
  private src4 = 0;
  private dst4 = 0;
  private seq = 0;
  private ack = 0;
  private flags = 0;
  /** Sequence number just after the pending reply's bytes. */
  private end = 0;
  /** Most payload bytes the pending reply carries (0: it carries none). */
  private payloadCap = 0;
  /** Replies folded into an earlier one since creation. */
  merged = 0;

  /**
   * Folds the reply `dec` decoded into the pending one when it continues it (same session, next in
   * sequence, both carry payload, no SYN/RST/FIN before it); returns whether it did. When it returns
   * false the caller takes the pending reply (take()) and offers this one as the new pending (hold()).
   */
  fold(dec: PacketDecoder): boolean {
    const p = this.pending;
    if (p === null) return false;
    const f = dec.flags;
    // URG: the urgent pointer counts from its own segment's sequence number.
    if (dec.wirePayloadLength === 0 || (f & (SYN | RST | URG)) !== 0 || (f & ACK) === 0) return false;
    if ((this.flags & (SYN | RST | FIN | URG)) !== 0 || (this.flags & ACK) === 0 || p.payloadLength === 0) return false;
    if (dec.seq !== this.end || ((dec.ack - this.ack) | 0) < 0) return false;
    if (dec.srcPort !== this.srcPort || dec.dstPort !== this.dstPort || dec.ipVersion !== this.family) return false;
    if (dec.ipVersion === 4) {
      if (dec.srcIpv4() !== this.src4 || dec.dstIpv4() !== this.dst4) return false;
    } else if (dec.srcAddress() !== p.src || dec.dstAddress() !== p.dst) {
      return false;
    }
    const start = dec.tcpOffset;
    const len = dec.tcpHeaderLength;
    if (len < 20 || start + len > dec.buf.length) return false;
    // The later header (acknowledgement, window, options), starting where the pending reply started.
    const header = Buffer.from(dec.buf.subarray(start, start + len));
    header.writeUInt32BE(this.seq >>> 0, SEQ_AT);
    header[FLAGS_AT] = f | (this.flags & PSH);
    p.tcpHeader = header;
    const carried = p.payload;
    if (carried !== undefined && carried.length === p.payloadLength && carried.length < this.payloadCap) {
      const more = capturedPayload(dec, this.payloadCap - carried.length);
      p.payload = Buffer.concat([carried, more]);
    }
    p.payloadLength += dec.wirePayloadLength;
    p.hopLimit = dec.ttl;
    this.ack = dec.ack;
    this.flags = header[FLAGS_AT]!;
    this.end = endOf(dec);
    this.merged++;
    return true;
  }

  /** Makes `reply` (built from `dec`, carrying up to `payloadCap` payload bytes) the pending one. */
  hold(reply: ResponseMessage, dec: PacketDecoder, payloadCap = 0): void {
    this.pending = reply;
    this.payloadCap = payloadCap;
    this.family = dec.ipVersion;
    this.srcPort = dec.srcPort;
    this.dstPort = dec.dstPort;
    this.src4 = dec.ipVersion === 4 ? dec.srcIpv4() : 0;
    this.dst4 = dec.ipVersion === 4 ? dec.dstIpv4() : 0;
    this.seq = dec.seq >>> 0;
    this.ack = dec.ack;
    this.flags = dec.flags;
    this.end = endOf(dec);
  }

  /** The pending reply (null when none); nothing is pending afterwards. */
  take(): ResponseMessage | null {
    const p = this.pending;
    this.pending = null;
    return p;
  }
}

/** The sequence number just after the segment `dec` decoded (its payload and FIN). */
function endOf(dec: PacketDecoder): number {
  return (dec.seq + dec.wirePayloadLength + ((dec.flags & FIN) !== 0 ? 1 : 0)) >>> 0;
}
