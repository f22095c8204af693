// What is in a capture file, as the offline report counts it (pure): packets and bytes, truncated
// records (caplen < len), packets of unknown link types, non-IP and non-TCP packets, IP fragments,
// TCP packets of other ports, and the client sessions (request direction, per the -x online
// endpoints) with and without a captured SYN. Fed the file's batches by the pre-scan (packet/source.ts).

import { PacketDecoder, TcpFlags, isSupportedLinkType, linkTypeName } from '../packet/index.js';
import type { CaptureBatch } from '../packet/batch.js';

/** An online endpoint of -x: requests go to it (ip null = any address). */
export interface OnlineEndpointKey {
  readonly ip: string | null;
  readonly port: number;
}

export interface InputCounts {
  packets: number;
  /** Captured bytes (sum of caplen). */
  bytes: number;
  /** Records whose caplen is smaller than the packet's length on the wire (snaplen cut). */
  truncatedPackets: number;
  /** Packets of a link type the decoder does not know, by name (e.g. LINKTYPE_147). */
  unknownLinkTypes: Record<string, number>;
  unknownLinkTypePackets: number;
  /** Packets whose frame decoded to no IP header (ARP, other EtherTypes, malformed). */
  nonIpPackets: number;
  /** IP packets of another protocol than TCP (UDP, ICMP, ...). */
  nonTcpPackets: number;
  /** IP fragments (never replayed). */
  fragments: number;
  /** TCP packets neither to nor from an online endpoint of -x. */
  otherTcpPackets: number;
  /** TCP packets to an online endpoint (the requests' direction) and from one (the online replies). */
  requestPackets: number;
  replyPackets: number;
  /** Client sessions (distinct client address:port → online address:port, per loop of the file). */
  sessions: number;
  /** ... whose first packet was not a SYN (joined mid-stream, or refused with -O). */
  sessionsWithoutSyn: number;
  /** Capture time from the first to the last packet, ms. */
  captureDurationMs: number;
}

export function newInputCounts(): InputCounts {
  return {
    packets: 0,
    bytes: 0,
    truncatedPackets: 0,
    unknownLinkTypes: {},
    unknownLinkTypePackets: 0,
    nonIpPackets: 0,
    nonTcpPackets: 0,
    fragments: 0,
    otherTcpPackets: 0,
    requestPackets: 0,
    replyPackets: 0,
    sessions: 0,
    sessionsWithoutSyn: 0,
    captureDurationMs: 0,
  };
}

export class CaptureAnalyzer {
  readonly counts: InputCounts = newInputCounts();
  private readonly decoder = new PacketDecoder();
  /** Session key → whether the client closed it (FIN or RST seen). */
  private readonly sessions = new Map<string, boolean>();
  /** Times of the first packet and the latest one (packets without a timestamp, time 0, aside). */
  private timed = false;
  private firstSec = 0;
  private firstNsec = 0;
  private lastSec = 0;
  private lastNsec = 0;

  constructor(private readonly online: readonly OnlineEndpointKey[]) {}

  private isOnline(ip: string, port: number): boolean {
    for (const o of this.online) if (o.port === port && (o.ip === null || o.ip === ip)) return true;
    return false;
  }

  /** Counts every packet of a batch. */
  add(b: CaptureBatch): void {
    for (let i = 0; i < b.count; i++) this.addPacket(b, i);
  }

  private addPacket(b: CaptureBatch, i: number): void {
    const c = this.counts;
    const caplen = b.caplen(i);
    c.packets++;
    c.bytes += caplen;
    const sec = b.tsSec(i);
    const nsec = b.tsNsec(i);
    if (sec !== 0 || nsec !== 0) {
      if (!this.timed) {
        this.timed = true;
        this.firstSec = sec;
        this.firstNsec = nsec;
      }
      if (sec > this.lastSec || (sec === this.lastSec && nsec > this.lastNsec)) {
        this.lastSec = sec;
        this.lastNsec = nsec;
      }
    }
    if (caplen < b.origLen(i)) c.truncatedPackets++;
    const linkType = b.linkType;
    if (!isSupportedLinkType(linkType)) {
      const name = linkTypeName(linkType);
      c.unknownLinkTypes[name] = (c.unknownLinkTypes[name] ?? 0) + 1;
      c.unknownLinkTypePackets++;
      return;
    }
    const d = this.decoder;
    if (!d.decode(b.buffer, b.offset(i), caplen, linkType)) {
      if (d.ipVersion === 0) c.nonIpPackets++;
      else if (d.protocol !== 6) c.nonTcpPackets++;
      else c.otherTcpPackets++; // a TCP packet whose header is cut or malformed
      return;
    }
    if (d.isFragment) {
      c.fragments++;
      return;
    }
    if (!d.isTcp) {
      c.nonTcpPackets++;
      return;
    }
    const src = d.srcAddress();
    const dst = d.dstAddress();
    if (this.isOnline(dst, d.dstPort)) {
      c.requestPackets++;
      const key = `${src} ${d.srcPort} ${dst} ${d.dstPort}`;
      const syn = (d.flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN;
      const closed = this.sessions.get(key);
      // A new session: a key not seen yet, or a SYN on a port whose last session sent FIN or RST.
      if (closed === undefined || (closed && syn)) {
        c.sessions++;
        if (!syn) c.sessionsWithoutSyn++;
      }
      this.sessions.set(key, (d.flags & (TcpFlags.FIN | TcpFlags.RST)) !== 0 || (closed === true && !syn));
    } else if (this.isOnline(src, d.srcPort)) {
      c.replyPackets++;
    } else {
      c.otherTcpPackets++;
    }
  }

  /** Closes the current pass: durations are final. Session keys are forgotten (a next loop counts anew). */
  finish(): InputCounts {
    if (this.timed) {
      this.counts.captureDurationMs = ((this.lastSec - this.firstSec) * 1e9 + (this.lastNsec - this.firstNsec)) / 1e6;
    }
    this.sessions.clear();
    return this.counts;
  }
}
