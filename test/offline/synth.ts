// Synthetic captures for the offline tests, written with the project's PcapngWriter: HTTP client
// sessions (SYN, ACK, GET, FIN) at chosen start times, plus the bad-input kinds the report counts.
import { openPcapngWriter } from '../../src/pcap/index.js';
import type { PacketToWrite } from '../../src/pcap/index.js';
import { LinkType, TcpFlags, buildEthernetFrame, buildTcpPacket } from '../../src/packet/index.js';

export interface SessionSpec {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** Capture time of the SYN, ns. */
  startNs: bigint;
  /** Omit the SYN (a session the capture joined mid-stream). */
  noSyn?: boolean;
  path?: string;
}

const MS = 1_000_000n;

/** Raw-IP (LINKTYPE_RAW) client packets of one HTTP/1.0-style session: SYN, ACK, GET, FIN at +0, +1, +1, +20 ms. */
export function clientSession(s: SessionSpec): PacketToWrite[] {
  const isn = (s.clientPort * 7919) >>> 0;
  const srvIsn = 1_000_000;
  const req = Buffer.from(`GET ${s.path ?? '/'} HTTP/1.1\r\nHost: offline\r\nConnection: close\r\n\r\n`);
  const base = {
    family: 4 as const,
    src: s.client,
    dst: s.server,
    srcPort: s.clientPort,
    dstPort: s.serverPort,
    window: 64240,
  };
  const out: PacketToWrite[] = [];
  if (s.noSyn !== true) {
    out.push({
      tsNs: s.startNs,
      data: buildTcpPacket({ ...base, seq: isn, ack: 0, flags: TcpFlags.SYN, options: [{ kind: 'mss', value: 1460 }] }),
    });
    out.push({
      tsNs: s.startNs + MS,
      data: buildTcpPacket({ ...base, seq: isn + 1, ack: srvIsn + 1, flags: TcpFlags.ACK }),
    });
  }
  out.push({
    tsNs: s.startNs + MS,
    data: buildTcpPacket({ ...base, seq: isn + 1, ack: srvIsn + 1, flags: TcpFlags.ACK | TcpFlags.PSH, payload: req }),
  });
  out.push({
    tsNs: s.startNs + 20n * MS,
    data: buildTcpPacket({ ...base, seq: isn + 1 + req.length, ack: srvIsn + 200, flags: TcpFlags.ACK | TcpFlags.FIN }),
  });
  return out;
}

/**
 * Writes packets (sorted by time, stable) as a pcapng file with one raw-IP interface (id 0) and, if given, more
 * interfaces.
 */
export async function writeCapture(
  path: string,
  packets: PacketToWrite[],
  extraLinkTypes: number[] = [],
): Promise<void> {
  const w = await openPcapngWriter(path, {
    interfaces: [{ linkType: LinkType.RAW }, ...extraLinkTypes.map((linkType) => ({ linkType }))],
  });
  const sorted = packets
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.tsNs < b.p.tsNs ? -1 : a.p.tsNs > b.p.tsNs ? 1 : a.i - b.i));
  for (const { p } of sorted) {
    if (!w.write(p)) await w.drain();
  }
  await w.close();
}

/** A UDP datagram in raw IP (a non-TCP packet). */
export function udpPacket(src: string, dst: string, tsNs: bigint): PacketToWrite {
  const b = Buffer.alloc(28 + 4);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[8] = 64;
  b[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(b, 12);
  Buffer.from(dst.split('.').map(Number)).copy(b, 16);
  b.writeUInt16BE(5353, 20);
  b.writeUInt16BE(5353, 22);
  b.writeUInt16BE(12, 24);
  return { tsNs, data: b };
}

/** An Ethernet ARP frame: a non-IP packet (interface `iface` must be Ethernet). */
export function arpFrame(tsNs: bigint, iface: number): PacketToWrite {
  return {
    tsNs,
    interfaceId: iface,
    data: buildEthernetFrame({
      src: '02:00:00:00:00:01',
      dst: 'ff:ff:ff:ff:ff:ff',
      etherType: 0x0806,
      payload: Buffer.alloc(28),
      padToMinimum: true,
    }),
  };
}
