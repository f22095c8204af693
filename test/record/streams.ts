// Test-only analysis of recorded traffic: TCP payload segments per service port and direction, the
// client → server byte streams per connection (reassembled by sequence number, retransmitted and
// overlapping bytes taken once), and the HTTP requests and redis commands in those streams.
import { PacketDecoder } from '../../src/packet/index.js';
import type { PacketFields } from '../support/captured.js';

export interface TrafficSummary {
  /** `${port} c2s` / `${port} s2c` → TCP segments with payload. */
  segments: Map<string, number>;
  /** Client → server streams of each connection to a service port: `${port} ${client}` → bytes. */
  clientStreams: Map<string, Buffer>;
  /** Packets that did not decode as TCP to or from a service port. */
  other: number;
}

interface Pieces {
  isn: number | null;
  parts: { off: number; data: Buffer }[];
}

export function summarize(
  packets: Iterable<Pick<PacketFields, 'data' | 'linkType'>>,
  servicePorts: readonly number[],
): TrafficSummary {
  const dec = new PacketDecoder();
  const segments = new Map<string, number>();
  const pieces = new Map<string, Pieces>();
  let other = 0;
  for (const p of packets) {
    if (!dec.decode(p.data, 0, p.data.length, p.linkType) || !dec.isTcp) {
      other++;
      continue;
    }
    const toServer = servicePorts.includes(dec.dstPort);
    const port = toServer ? dec.dstPort : dec.srcPort;
    if (!toServer && !servicePorts.includes(dec.srcPort)) {
      other++;
      continue;
    }
    if (dec.payloadLength > 0) {
      const k = `${port} ${toServer ? 'c2s' : 's2c'}`;
      segments.set(k, (segments.get(k) ?? 0) + 1);
    }
    if (!toServer) continue;
    const conn = `${port} ${dec.srcAddress()}:${dec.srcPort}`;
    let pc = pieces.get(conn);
    const syn = (dec.flags & 0x02) !== 0;
    if (pc !== undefined && syn && pc.isn !== null && pc.isn !== dec.seq) {
      // A new connection on a reused client port: keep the previous one under its own key.
      pieces.set(`${conn}#${pieces.size}`, pc);
      pc = undefined;
    }
    if (pc === undefined) pieces.set(conn, (pc = { isn: null, parts: [] }));
    if (syn) pc.isn = dec.seq;
    if (dec.payloadLength > 0) {
      const data = Buffer.from(p.data.subarray(dec.payloadOffset, dec.payloadOffset + dec.payloadLength));
      pc.parts.push({ off: dec.seq, data });
    }
  }
  const clientStreams = new Map<string, Buffer>();
  for (const [conn, pc] of pieces) {
    // Offsets relative to the first data byte (ISN + 1), or the lowest seq seen without a SYN.
    const base =
      pc.isn !== null ? (pc.isn + 1) >>> 0 : pc.parts.reduce((m, x) => Math.min(m, x.off), Number.MAX_SAFE_INTEGER);
    const rel = pc.parts.map((x) => ({ off: (x.off - base) >>> 0, data: x.data })).sort((a, b) => a.off - b.off);
    const out: Buffer[] = [];
    let end = 0;
    for (const x of rel) {
      if (x.off > end) break; // a hole: the stream ends where the capture lost bytes
      const from = end - x.off;
      if (from < x.data.length) {
        out.push(x.data.subarray(from));
        end = x.off + x.data.length;
      }
    }
    clientStreams.set(conn, Buffer.concat(out));
  }
  return { segments, clientStreams, other };
}

/** HTTP/1.x request lines (`GET /path HTTP/1.0\r\n`) in a client stream. */
export function countHttpRequests(stream: Buffer): number {
  return (stream.toString('latin1').match(/(?:^|\r\n\r\n)[A-Z]+ \S+ HTTP\/1\.[01]\r\n/g) ?? []).length;
}

/** Redis commands (RESP arrays of bulk strings) in a client stream, by lower-case name; throws on malformed RESP. */
export function countRedisCommands(stream: Buffer, into: Map<string, number>): void {
  const s = stream.toString('latin1');
  let i = 0;
  const line = (): string => {
    const e = s.indexOf('\r\n', i);
    if (e < 0) throw new Error(`RESP: no CRLF after offset ${i}`);
    const l = s.slice(i, e);
    i = e + 2;
    return l;
  };
  while (i < s.length) {
    const head = line();
    if (!head.startsWith('*'))
      throw new Error(`RESP: expected an array at ${i}, got ${JSON.stringify(head.slice(0, 20))}`);
    const n = Number(head.slice(1));
    let name = '';
    for (let k = 0; k < n; k++) {
      const bulk = line();
      if (!bulk.startsWith('$'))
        throw new Error(`RESP: expected a bulk string, got ${JSON.stringify(bulk.slice(0, 20))}`);
      const len = Number(bulk.slice(1));
      if (k === 0) name = s.slice(i, i + len).toLowerCase();
      i += len + 2;
    }
    into.set(name, (into.get(name) ?? 0) + 1);
  }
}
