// The end-of-replay report of `tcpcopy --offline` (in the spirit of tcpreplay's): what the file
// held, what was replayed, what was skipped and why, rates and duration. Pure: figures in, a JSON
// object (--report-json) and human text out. The counters come in under tcpcopy's own names
// (TcpcopyCounters); the JSON and text below are the report's format.
//
// JSON fields (all counts are integers, times in ms, rates per second):
//   file, format ('pcap' | 'pcapng'), transport ('packet'), loops (-T)
//   durationMs            replay time from the first packet released to the end of the drain
//   packets.inFile        packets in one pass over the file; packets.read = inFile × loops
//   packets.replayed      packets handed to the session engine (client requests matching -x)
//   packets.sent          packets sent to the target (incl. synthesized SYNs, ACKs, retransmissions)
//   packets.failedSends   packets the raw sender could not send (errors or full queue)
//   bytes.read            captured bytes read (all loops)
//   bytes.sentContentPackets  packets with payload sent to the target (the engine counts packets, not bytes)
//   sessions.inFile       client sessions seen in the file (all loops)
//   sessions.replayed     sessions the target accepted (its SYN-ACK reached tcpcopy)
//   sessions.withoutSyn   sessions in the file whose SYN is not in it (all loops)
//   sessions.joinedWithoutSyn  of those, replayed with a synthesized SYN (mid-stream join)
//   sessions.skipped      by reason: refusedNoSyn (-O), sampledOut (-r), noSynAck (the target never
//                         answered the SYN), unfinished (still open when the drain ended)
//   sessions.closed       sessions ended, by reason (finished, client reset, target reset, timeouts, replaced)
//   input.truncatedPackets (caplen < len), input.nonTcpPackets, input.nonIpPackets, input.fragments,
//   input.unknownLinkTypes ({ name: packets }), input.unknownLinkTypePackets, input.otherTcpPackets
//                         (TCP of other ports), input.replyPackets (the online server's replies, not replayed)
//   rates.packetsPerS, rates.sessionsPerS, rates.mbitPerS (bytes.read over durationMs)
//   rateCap               null without --pps and --rps; else { pps, rps }, each null when not given or
//                         { capPerS, released (packets / requests), achievedPerS (first to last release) }

import type { TcpcopyCounters } from './tcpcopy-counters.js';

/** The counters the report reads. */
export type OfflineReportCounters = Pick<
  TcpcopyCounters,
  'allClient' | 'send' | 'sendContent' | 'sendErrors' | 'conns' | 'reconnectNoSyn' | 'refusedNoSyn' | 'sampledOutSyns'
>;

export interface OfflineReportInput {
  readonly file: string;
  readonly format: string;
  readonly loops: number;
  readonly durationMs: number;
  readonly inFile: {
    readonly packets: number;
    readonly bytes: number;
    readonly sessions: number;
    readonly sessionsWithoutSyn: number;
    readonly truncatedPackets: number;
    readonly nonTcpPackets: number;
    readonly nonIpPackets: number;
    readonly fragments: number;
    readonly unknownLinkTypes: Readonly<Record<string, number>>;
    readonly unknownLinkTypePackets: number;
    readonly otherTcpPackets: number;
    readonly replyPackets: number;
  };
  readonly counters: Readonly<OfflineReportCounters>;
  /** Sessions still open when the drain ended (read before tcpcopy stopped). */
  readonly activeAtEnd: number;
  readonly closeReasons: ReadonlyMap<string, number>;
  /** --pps / --rps: the caps and what they held the replay to (absent or both null: no cap). */
  readonly rateCaps?: { readonly pps: RateCapFigures | null; readonly rps: RateCapFigures | null };
}

/** A rate cap and the rate achieved under it (first to last release). */
export interface RateCapFigures {
  readonly capPerS: number;
  /** Events released: packets for --pps, requests for --rps. */
  readonly released: number;
  readonly achievedPerS: number;
}

export interface OfflineReport {
  file: string;
  format: string;
  transport: 'packet';
  loops: number;
  durationMs: number;
  packets: { inFile: number; read: number; replayed: number; sent: number; failedSends: number };
  bytes: { read: number; sentContentPackets: number };
  sessions: {
    inFile: number;
    replayed: number;
    withoutSyn: number;
    joinedWithoutSyn: number;
    skipped: { refusedNoSyn: number; sampledOut: number; noSynAck: number; unfinished: number };
    closed: Record<string, number>;
  };
  input: {
    truncatedPackets: number;
    nonTcpPackets: number;
    nonIpPackets: number;
    fragments: number;
    unknownLinkTypes: Record<string, number>;
    unknownLinkTypePackets: number;
    otherTcpPackets: number;
    replyPackets: number;
  };
  rates: { packetsPerS: number; sessionsPerS: number; mbitPerS: number };
  rateCap: { pps: RateCapFigures | null; rps: RateCapFigures | null } | null;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

export function buildOfflineReport(r: OfflineReportInput): OfflineReport {
  const loops = r.loops;
  const f = r.inFile;
  const c = r.counters;
  const seconds = r.durationMs / 1000;
  const per = (n: number): number => (seconds > 0 ? round(n / seconds, 1) : 0);
  const closed: Record<string, number> = {};
  for (const [k, v] of r.closeReasons) if (v > 0) closed[k] = v;
  const readBytes = f.bytes * loops;
  return {
    file: r.file,
    format: r.format,
    transport: 'packet',
    loops,
    durationMs: round(r.durationMs, 1),
    packets: {
      inFile: f.packets,
      read: f.packets * loops,
      replayed: c.allClient,
      sent: c.send,
      failedSends: c.sendErrors,
    },
    bytes: { read: readBytes, sentContentPackets: c.sendContent },
    sessions: {
      inFile: f.sessions * loops,
      replayed: c.conns,
      withoutSyn: f.sessionsWithoutSyn * loops,
      joinedWithoutSyn: c.reconnectNoSyn,
      skipped: {
        refusedNoSyn: c.refusedNoSyn,
        sampledOut: c.sampledOutSyns,
        noSynAck: r.closeReasons.get('handshakeTimeout') ?? 0,
        unfinished: r.activeAtEnd,
      },
      closed,
    },
    input: {
      truncatedPackets: f.truncatedPackets * loops,
      nonTcpPackets: f.nonTcpPackets * loops,
      nonIpPackets: f.nonIpPackets * loops,
      fragments: f.fragments * loops,
      unknownLinkTypes: Object.fromEntries(Object.entries(f.unknownLinkTypes).map(([k, v]) => [k, v * loops])),
      unknownLinkTypePackets: f.unknownLinkTypePackets * loops,
      otherTcpPackets: f.otherTcpPackets * loops,
      replyPackets: f.replyPackets * loops,
    },
    rates: {
      packetsPerS: per(f.packets * loops),
      sessionsPerS: per(c.conns),
      mbitPerS: seconds > 0 ? round((readBytes * 8) / 1e6 / seconds, 3) : 0,
    },
    rateCap: rateCap(r.rateCaps),
  };
}

function rateCap(caps: OfflineReportInput['rateCaps']): OfflineReport['rateCap'] {
  if (caps === undefined || (caps.pps === null && caps.rps === null)) return null;
  const one = (c: RateCapFigures | null): RateCapFigures | null =>
    c === null ? null : { capPerS: c.capPerS, released: c.released, achievedPerS: round(c.achievedPerS, 1) };
  return { pps: one(caps.pps), rps: one(caps.rps) };
}

/** The report as text lines (printed on standard output at the end of the replay). */
export function formatOfflineReport(rep: OfflineReport): string[] {
  const s = rep.sessions;
  const i = rep.input;
  const kinds = Object.entries(i.unknownLinkTypes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const closed = Object.entries(s.closed)
    .map(([k, v]) => `${k.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)} ${v}`)
    .join(', ');
  const caps = [
    ...(rep.rateCap?.pps == null ? [] : [['--pps', rep.rateCap.pps, 'packets'] as const]),
    ...(rep.rateCap?.rps == null ? [] : [['--rps', rep.rateCap.rps, 'requests'] as const]),
  ].map(([flag, c, what]) => `${flag} ${c.capPerS}: ${c.released} ${what}, achieved ${c.achievedPerS} ${what}/s`);
  return [
    `offline replay of ${rep.file} (${rep.format}, ${rep.loops} loop${rep.loops === 1 ? '' : 's'}, ${rep.transport} transport)`,
    `  duration:        ${(rep.durationMs / 1000).toFixed(3)} s`,
    `  packets:         ${rep.packets.read} read, ${rep.packets.replayed} replayed, ${rep.packets.sent} sent to the target, ${rep.packets.failedSends} failed sends`,
    `  bytes:           ${rep.bytes.read} read (${rep.rates.mbitPerS} Mbit/s), ${rep.bytes.sentContentPackets} packets with data sent`,
    `  rates:           ${rep.rates.packetsPerS} packets/s, ${rep.rates.sessionsPerS} sessions/s`,
    ...(caps.length === 0 ? [] : [`  rate cap:        ${caps.join('; ')} (first to last release)`]),
    `  sessions:        ${s.inFile} in the file, ${s.replayed} replayed, ${s.withoutSyn} without SYN (${s.joinedWithoutSyn} joined mid-stream)`,
    `  skipped:         refused without SYN (-O) ${s.skipped.refusedNoSyn}, sampled out (-r) ${s.skipped.sampledOut}, no SYN-ACK ${s.skipped.noSynAck}, unfinished ${s.skipped.unfinished}`,
    `  closed:          ${closed === '' ? 'none' : closed}`,
    `  input:           truncated ${i.truncatedPackets}, non-TCP ${i.nonTcpPackets}, non-IP ${i.nonIpPackets}, fragments ${i.fragments}, other TCP ${i.otherTcpPackets}, online replies ${i.replyPackets}`,
    `  unknown links:   ${i.unknownLinkTypePackets}${kinds === '' ? '' : ` (${kinds})`}`,
  ];
}
