// The --report-json document of an offline replay: one schema for both transports, so a script reads
// either without asking which ran. Pure: a transport's report in, the JSON object out.
//
// Every field is present in every report. A figure the transport does not measure is null (a whole
// section when none of it applies); a figure it measures is a number, never null. Counts are
// integers, durationMs is whole milliseconds, rates are per second with one decimal.
//
//   report ('tcpcopy-replay'), version (1), file, format ('pcap' | 'pcapng'), transport
//   ('packet' | 'socket'), loops (-T), samplePercent (-r, 100 without it), copies (-n, 1 without it)
//   durationMs                replay time, first release to the end of the drain
//   packets.inFile / read     packets in one pass / in all loops
//   packets.replayed          client packets of the -x ports handed to the replay
//   packets.sent, failedSends packet: packets sent to the target (SYNs, ACKs, retransmissions too) and
//                             sends that failed; socket: null (the kernel's TCP sends)
//   bytes.read                captured bytes read (all loops)
//   bytes.sentContentPackets  packet: packets with payload sent; socket: null
//   bytes.sent, received      socket: payload bytes written to / read from the target; packet: null
//   sessions.inFile           client sessions in the file (all loops)
//   sessions.withoutSyn       of those, sessions whose SYN is not in the file
//   sessions.joinedWithoutSyn of those, replayed all the same (packet: a synthesized SYN; socket: a connect)
//   sessions.replayed         sessions the target accepted (packet: its SYN-ACK; socket: the connect)
//   sessions.ok, failed       socket: replays whose every request was sent and answered / not; packet: null
//   sessions.skipped          noData (socket: no client byte captured), refusedNoSyn (packet, -O),
//                             sampledOut (-r, both), noSynAck (packet: the target never answered the
//                             SYN), unfinished (packet: still open when the drain ended), aborted
//                             (socket: not started because SIGINT/SIGTERM came); null where not counted
//   sessions.closed           packet: sessions ended by reason; socket: null
//   requests                  socket: { sent, turnsSent, responsesTruncated, completedByLength,
//                             completedByQuiet, noReply }; packet: null
//   failures                  socket: { refused, reset, timeout, targetClosed, other }; packet: null
//   stream                    socket: { retransmitted, overlapping, outOfOrder, gapBytes } (client
//                             stream reassembly); packet: null (packets go as captured)
//   input                     truncatedPackets, nonTcpPackets, otherTcpPackets, replyPackets (both);
//                             nonIpPackets, fragments, unknownLinkTypes, unknownLinkTypePackets (packet);
//                             undecodablePackets (socket)
//   rates                     packetsPerS, sessionsPerS, mbitPerS (both); requestsPerS (socket)
//   rateCap                   null without --pps and --rps; else { pps, rps }, each null when not
//                             given or { capPerS, released, achievedPerS }
//   mysql                     null without --mysql; else the MySQL mode's counters by name (both
//                             transports; src/mysql-replay/mode.ts MysqlFigures)

import type { OfflineReport, RateCapFigures } from '../stats/offline-report.js';
import type { ReplayReport } from './socket/index.js';
import type { MysqlFigures } from '../mysql-replay/index.js';

export interface ReplayReportJson {
  report: 'tcpcopy-replay';
  version: 1;
  file: string;
  format: string | null;
  transport: 'packet' | 'socket';
  loops: number;
  samplePercent: number;
  copies: number;
  durationMs: number;
  packets: { inFile: number; read: number; replayed: number; sent: number | null; failedSends: number | null };
  bytes: { read: number; sentContentPackets: number | null; sent: number | null; received: number | null };
  sessions: {
    inFile: number;
    withoutSyn: number;
    joinedWithoutSyn: number;
    replayed: number;
    ok: number | null;
    failed: number | null;
    skipped: {
      noData: number | null;
      refusedNoSyn: number | null;
      sampledOut: number;
      noSynAck: number | null;
      unfinished: number | null;
      aborted: number | null;
    };
    closed: Record<string, number> | null;
  };
  requests: {
    sent: number;
    turnsSent: number;
    responsesTruncated: number;
    completedByLength: number;
    completedByQuiet: number;
    noReply: number;
  } | null;
  failures: { refused: number; reset: number; timeout: number; targetClosed: number; other: number } | null;
  stream: { retransmitted: number; overlapping: number; outOfOrder: number; gapBytes: number } | null;
  input: {
    truncatedPackets: number;
    nonTcpPackets: number;
    otherTcpPackets: number;
    replyPackets: number;
    nonIpPackets: number | null;
    fragments: number | null;
    unknownLinkTypes: Record<string, number> | null;
    unknownLinkTypePackets: number | null;
    undecodablePackets: number | null;
  };
  rates: { packetsPerS: number; sessionsPerS: number; mbitPerS: number; requestsPerS: number | null };
  rateCap: { pps: RateCapFigures | null; rps: RateCapFigures | null } | null;
  mysql: MysqlFigures | null;
}

/** What the packet transport's report does not hold itself (its options). */
export interface PacketReportOptions {
  readonly samplePercent: number;
  readonly copies: number;
  /** --mysql: the mode's figures at the end. */
  readonly mysqlFigures?: MysqlFigures | null;
}

const oneDecimal = (x: number): number => Math.round(x * 10) / 10;
const perSecond = (n: number, ms: number): number => (ms > 0 ? oneDecimal((n * 1000) / ms) : 0);
const mbitPerS = (bytes: number, ms: number): number => (ms > 0 ? Math.round((bytes * 8 * 1000) / ms / 1e3) / 1e3 : 0);

/** The packet transport's report (buildOfflineReport) as the common JSON document. */
export function packetReportJson(r: OfflineReport, o: PacketReportOptions): ReplayReportJson {
  const s = r.sessions;
  const ms = Math.round(r.durationMs);
  return {
    report: 'tcpcopy-replay',
    version: 1,
    file: r.file,
    format: r.format,
    transport: 'packet',
    loops: r.loops,
    samplePercent: o.samplePercent,
    copies: o.copies,
    durationMs: ms,
    packets: { ...r.packets },
    bytes: { read: r.bytes.read, sentContentPackets: r.bytes.sentContentPackets, sent: null, received: null },
    sessions: {
      inFile: s.inFile,
      withoutSyn: s.withoutSyn,
      joinedWithoutSyn: s.joinedWithoutSyn,
      replayed: s.replayed,
      ok: null,
      failed: null,
      skipped: { noData: null, ...s.skipped, aborted: null },
      closed: { ...s.closed },
    },
    requests: null,
    failures: null,
    stream: null,
    input: {
      truncatedPackets: r.input.truncatedPackets,
      nonTcpPackets: r.input.nonTcpPackets,
      otherTcpPackets: r.input.otherTcpPackets,
      replyPackets: r.input.replyPackets,
      nonIpPackets: r.input.nonIpPackets,
      fragments: r.input.fragments,
      unknownLinkTypes: { ...r.input.unknownLinkTypes },
      unknownLinkTypePackets: r.input.unknownLinkTypePackets,
      undecodablePackets: null,
    },
    rates: { ...r.rates, requestsPerS: null },
    rateCap: r.rateCap,
    mysql: o.mysqlFigures ?? null,
  };
}

/** The socket transport's report (replayCaptureOverSockets) as the common JSON document. */
export function socketReportJson(r: ReplayReport, file: string): ReplayReportJson {
  const c = r.capture;
  const p = r.replay;
  const f = p.failures;
  const ms = Math.round(r.durationMs);
  return {
    report: 'tcpcopy-replay',
    version: 1,
    file,
    format: r.format,
    transport: 'socket',
    loops: 1,
    samplePercent: r.samplePercent,
    copies: r.copies,
    durationMs: ms,
    packets: { inFile: c.read, read: c.read, replayed: c.clientPackets, sent: null, failedSends: null },
    bytes: { read: c.bytes, sentContentPackets: null, sent: p.bytesSent, received: p.responseBytes },
    sessions: {
      inFile: c.sessions,
      withoutSyn: c.joined,
      joinedWithoutSyn: c.joined,
      replayed: p.sessionsConnected,
      ok: p.sessionsOk,
      failed: p.sessionsFailed,
      skipped: {
        noData: r.skipped.noData,
        refusedNoSyn: null,
        sampledOut: r.skipped.sampledOut,
        noSynAck: null,
        unfinished: null,
        aborted: r.skipped.aborted,
      },
      closed: null,
    },
    requests: {
      sent: p.requestsSent,
      turnsSent: p.turnsSent,
      responsesTruncated: p.responsesTruncated,
      completedByLength: p.completedByLength,
      completedByQuiet: p.completedByQuiet,
      noReply: p.noReply,
    },
    failures: {
      refused: f.connectRefused,
      reset: f.reset,
      timeout: f.timeout,
      targetClosed: f.targetClosed,
      other: f.other,
    },
    stream: {
      retransmitted: c.retransmitted,
      overlapping: c.overlapping,
      outOfOrder: c.outOfOrder,
      gapBytes: c.gapBytes,
    },
    input: {
      truncatedPackets: c.truncated,
      nonTcpPackets: c.nonTcp,
      otherTcpPackets: c.otherPorts,
      replyPackets: c.serverPackets,
      nonIpPackets: null,
      fragments: null,
      unknownLinkTypes: null,
      unknownLinkTypePackets: null,
      undecodablePackets: c.undecodable,
    },
    rates: {
      packetsPerS: perSecond(c.read, ms),
      sessionsPerS: perSecond(p.sessionsConnected, ms),
      mbitPerS: mbitPerS(c.bytes, ms),
      requestsPerS: perSecond(p.requestsSent, ms),
    },
    rateCap:
      p.rateCap === null
        ? null
        : {
            pps: null,
            rps: {
              capPerS: p.rateCap.requestsPerS,
              released: p.turnsSent,
              achievedPerS: oneDecimal(p.rateCap.achievedRequestsPerS),
            },
          },
    mysql: r.mysqlFigures,
  };
}
