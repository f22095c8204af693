// Distinct client sessions for the soak: each a SYN and a request segment from its own address:port
// (addresses from 10.77.128.1 up, ports from 10000 up), sent as raw IPv4 packets from a lab host's
// namespace towards the online server at a paced rate. Packets are patched from two templates
// (address and port, checksums by RFC 1624), so building costs next to nothing. Bounded in count
// and time.
import { RawSender } from '../../src/send/index.js';
import { TcpFlags, buildTcpPacket, checksumUpdate16, checksumUpdate32 } from '../../src/packet/index.js';

export interface FloodOptions {
  /** The namespace to send from (a lab host's). */
  readonly netns: string;
  readonly dst: string;
  readonly dstPort: number;
  /** Sessions to open (two packets each). */
  readonly sessions: number;
  /** Sessions per second. */
  readonly rate: number;
  /** Give up after this long even if not all were sent. */
  readonly timeLimitMs: number;
  /** Distinct source ports per address (default 1000). */
  readonly portsPerAddress?: number;
}

export interface FloodResult {
  /** Sessions whose two packets the kernel took. */
  readonly sent: number;
  /** Packets the kernel refused. */
  readonly failed: number;
  readonly seconds: number;
}

/** The source address of session i's client: 10.77.128.1 counting up (skips .0 and .255). */
export function floodClient(i: number, portsPerAddress = 1000): { ip: number; port: number } {
  const a = Math.floor(i / portsPerAddress);
  const ip = (10 << 24) | (77 << 16) | ((128 + Math.floor(a / 254)) << 8) | ((a % 254) + 1);
  return { ip: ip >>> 0, port: 10_000 + (i % portsPerAddress) };
}

/** The subnet every flood client is in. */
export const FLOOD_NET = '10.77.128.0/17';

const REQUEST = Buffer.from('GET /soak HTTP/1.1\r\nHost: soak\r\n\r\n');
const ISN = 0x10000000;
const BATCH = 256;

export async function floodSessions(o: FloodOptions): Promise<FloodResult> {
  const per = o.portsPerAddress ?? 1000;
  if (Math.floor((o.sessions - 1) / per / 254) >= 128) throw new Error('more sessions than the flood subnet holds');
  const base = {
    family: 4 as const,
    src: '10.77.128.1',
    dst: o.dst,
    srcPort: 10_000,
    dstPort: o.dstPort,
    window: 64240,
  };
  const synT = buildTcpPacket({
    ...base,
    seq: ISN,
    ack: 0,
    flags: TcpFlags.SYN,
    options: [{ kind: 'mss', value: 1460 }],
  });
  const dataT = buildTcpPacket({
    ...base,
    seq: ISN + 1,
    ack: 1,
    flags: TcpFlags.ACK | TcpFlags.PSH,
    payload: REQUEST,
  });
  const baseIp = synT.readUInt32BE(12);
  const tx = RawSender.open({ family: 4, netns: o.netns });
  const started = Date.now();
  let sent = 0;
  let failed = 0;
  try {
    for (let first = 0; first < o.sessions; first += BATCH) {
      const due = started + (first / o.rate) * 1000;
      const now = Date.now();
      if (now - started > o.timeLimitMs) break;
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      const n = Math.min(BATCH, o.sessions - first);
      const packets: Buffer[] = [];
      // A fresh arena per batch: packets the kernel could not take at once wait in the sender's queue.
      const arena = Buffer.allocUnsafe(n * (synT.length + dataT.length));
      let off = 0;
      for (let k = 0; k < n; k++) {
        const c = floodClient(first + k, per);
        for (const t of [synT, dataT]) {
          const p = arena.subarray(off, off + t.length);
          t.copy(p);
          off += t.length;
          p.writeUInt32BE(c.ip, 12);
          p.writeUInt16BE(checksumUpdate32(t.readUInt16BE(10), baseIp, c.ip), 10);
          p.writeUInt16BE(c.port, 20);
          // The TCP checksum covers the pseudo-header's source address and the source port.
          const tcpSum = checksumUpdate16(checksumUpdate32(t.readUInt16BE(36), baseIp, c.ip), 10_000, c.port);
          p.writeUInt16BE(tcpSum, 36);
          packets.push(p);
        }
      }
      const report = tx.send(packets);
      failed += report.failed;
      sent += n;
    }
  } finally {
    tx.close();
  }
  return { sent, failed, seconds: (Date.now() - started) / 1000 };
}
