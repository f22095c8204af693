// Replay over ordinary sockets (the socket transport): the entry point the CLI calls, and the
// parts it is built from.
import { readCaptureFile } from '../../pcap/file.js';
import type { CaptureFileError } from '../../pcap/errors.js';
import type { CaptureBatch } from '../../packet/batch.js';
import { PacketDecoder } from '../../packet/decoder.js';
import { ConversationBuilder, decodeReplayPacket, emptyDecodeCounters } from './streams.js';
import type { Conversation, DecodeCounters, StreamCounters } from './streams.js';
import { ResponseLogWriter } from './response-log.js';
import { SocketReplayer } from './socket-replayer.js';
import type { MysqlFigures, MysqlModeConfig, MysqlModeLog } from '../../mysql-replay/index.js';
import { isSessionSampled, MAX_COPIES, SampleRamp } from '../../tcpcopy/rewrite.js';
import type { CompletedTurn, ReplayProgress, SocketReplayCounters, SocketReplayOptions } from './socket-replayer.js';
import { CompareReport, compareTurn } from '../../compare/index.js';
import type { CompareRules } from '../../compare/index.js';

export { ConversationBuilder, decodeReplayPacket, emptyDecodeCounters, emptyStreamCounters } from './streams.js';
export type { Conversation, Turn, ReplayPacket, SessionEnd, StreamCounters, DecodeCounters } from './streams.js';
export { SocketReplayer } from './socket-replayer.js';
export type { SocketReplayOptions, SocketReplayCounters, ReplayProgress, FailureCounters } from './socket-replayer.js';
export { ResponseLogWriter, readResponseLog, parseResponseLogLine } from './response-log.js';
export type {
  ResponseLogRecord,
  ResponseLogHeader,
  TurnRecord,
  SessionRecord,
  Completion,
  SessionOutcome,
} from './response-log.js';

export interface SocketReplayRequest extends Omit<SocketReplayOptions, 'log' | 'onProgress' | 'mysql'> {
  /** --mysql: log in to the target with the configured passwords (src/mysql-replay/); its lines go to mysqlLog. */
  mysql?: MysqlModeConfig;
  mysqlLog?: MysqlModeLog;
  /** A capture file (pcap or pcapng). Exactly one of file and packets. */
  file?: string;
  /** Or packets in capture order (e.g. `readCaptureStream(...)`, or the batches of a live capture). */
  packets?: AsyncIterable<CaptureBatch> | Iterable<CaptureBatch>;
  /** The service's server ports: packets to them are the client side, from them the server side. */
  ports: readonly number[];
  /**
   * Live source: replay each session as soon as it has ended in the capture (FIN/RST, or no packet
   * for liveIdleMs by the wall clock) instead of reading the whole source first. Yield an empty
   * batch now and then when no packets come, so idle sessions are flushed. Default false.
   */
  live?: boolean;
  /** Live: a session without a packet for this long is replayed (later data starts a joined session). Default 5,000. */
  liveIdleMs?: number;
  /** Write the target's responses here (JSON lines, see response-log.ts). */
  responseLog?: string;
  /**
   * --compare-report: compare each turn's target reply with the captured online one (the capture
   * must hold the server's packets); the results are in the report's `compare`.
   */
  compare?: { readonly rules: CompareRules; readonly keepBodyBytes: number };
  /**
   * -r: replay only this percentage of the sessions, 1..100 (default 100): the ones the packet
   * transport copies, by the same rule on the captured client address and port.
   */
  samplePercent?: number;
  /** -g: the sampled share ramps from 1 % to samplePercent over this many ms of capture time (0: none). */
  rampMs?: number;
  /**
   * -n: replay each (sampled) session this many times, 1..1023 (default 1), each copy over its own
   * connection from this machine, so the kernel gives every copy its own source port.
   */
  copies?: number;
  /** A file cut short is replayed up to the cut, this told of it (see ReadCaptureOptions); default: refused. */
  onTruncated?: (e: CaptureFileError) => void;
  /** sessionsTotal: replays of the whole capture (sampled sessions × copies; −1 while a live source is running). */
  onProgress?: (p: ReplayProgress & { sessionsTotal: number }) => void;
}

export interface ReplayReport {
  /** The capture file's format ('pcap' | 'pcapng'); null when packets came from elsewhere (live capture). */
  format: string | null;
  /** --mysql: the mode's statistics line; null without it. */
  mysql: string | null;
  /** --mysql: the mode's figures (the --report-json `mysql` section); null without it. */
  mysqlFigures: MysqlFigures | null;
  /** What reading the capture found. */
  capture: DecodeCounters & StreamCounters;
  /** Replayable sessions (with at least one client byte). */
  sessionsTotal: number;
  /**
   * Sessions skipped, by reason (noData: no client byte captured; sampledOut: replayable but left
   * out by -r; aborted: replays, copies included, not started because the signal fired).
   */
  skipped: { noData: number; sampledOut: number; aborted: number };
  /** -r and -n as replayed (100 and 1 without them). */
  samplePercent: number;
  copies: number;
  /** Replays planned: (sessionsTotal − sampledOut) × copies; the replay counters count these. */
  replaysTotal: number;
  replay: SocketReplayCounters;
  durationMs: number;
  /** --compare-report: the comparison of every turn; null without it. */
  compare: CompareReport | null;
}

/**
 * Reads the packets, builds every session's conversation, and replays them to `target` over TCP
 * sockets (captured timing ÷ accelerate, or topSpeed). Rejects only for bad input (CaptureFileError
 * for a corrupt or truncated file, naming the file and offset; RangeError for bad options); network
 * failures are counted in the report.
 */
export async function replayCaptureOverSockets(req: SocketReplayRequest): Promise<ReplayReport> {
  const t0 = performance.now();
  if ((req.file === undefined) === (req.packets === undefined))
    throw new RangeError('give exactly one of file and packets');
  if (req.ports.length === 0 || req.ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new RangeError(`ports must be 1..65535, got ${req.ports.join(',')}`);
  }
  const percent = req.samplePercent ?? 100;
  if (!Number.isInteger(percent) || percent < 1 || percent > 100)
    throw new RangeError(`samplePercent must be 1..100, got ${percent}`);
  const copies = req.copies ?? 1;
  if (!Number.isInteger(copies) || copies < 1 || copies > MAX_COPIES)
    throw new RangeError(`copies must be 1..${MAX_COPIES}, got ${copies}`);
  let sampledOut = 0;
  // -g: a session's answer comes from the share at its start (capture time); it is replayed whole.
  // Packet times count from the first packet: the ramp starts there (live, conversations come as they close).
  const ramp = (req.rampMs ?? 0) > 0 ? new SampleRamp(percent, req.rampMs!, 0) : null;
  // A captured session's replays: none when -r leaves it out, else `copies` of them (numbered when more than one).
  function* replaysOf(conv: Conversation): Generator<Conversation> {
    const sampled =
      ramp !== null
        ? ramp.sampledSession(conv.client, conv.clientPort, conv.startMs)
        : isSessionSampled(conv.client, conv.clientPort, percent);
    if (!sampled) {
      sampledOut++;
      return;
    }
    if (copies === 1) yield conv;
    else for (let copy = 0; copy < copies; copy++) yield { ...conv, copy };
  }
  const builder = new ConversationBuilder(req.ports, req.compare !== undefined);
  const cmp = req.compare;
  const compare = cmp === undefined ? null : new CompareReport();
  const onTurn =
    cmp === undefined || compare === null
      ? undefined
      : (t: CompletedTurn): void => {
          const turn = t.turn >= 0 ? t.conv.turns[t.turn] : undefined;
          const results = compareTurn(
            {
              request: turn?.data ?? Buffer.alloc(0),
              online: (turn === undefined ? t.conv.greetingReply : turn.onlineReply) ?? Buffer.alloc(0),
              onlineMs: turn?.onlineMs ?? -1,
              target: t.reply,
              targetBytes: t.replyBytes,
              targetMs: t.targetMs,
            },
            cmp.rules,
            cmp.keepBodyBytes,
          );
          for (const r of results) compare.add(r);
        };
  const decodeCounters = emptyDecodeCounters();
  const decoder = new PacketDecoder();
  // The first packet's time: packet times are ms after it.
  let firstSec = 0;
  let firstNsec = 0;
  let started = false;
  const feed = (b: CaptureBatch): void => {
    for (let i = 0; i < b.count; i++) {
      if (!started) {
        started = true;
        firstSec = b.tsSec(i);
        firstNsec = b.tsNsec(i);
      }
      const tsMs = b.nsSince(i, firstSec, firstNsec) / 1e6;
      const rp = decodeReplayPacket(decoder, b.data(i), b.linkType, tsMs, builder, decodeCounters);
      if (rp !== null) builder.add(rp);
    }
  };
  const reader =
    req.file === undefined
      ? null
      : readCaptureFile(req.file, req.onTruncated === undefined ? {} : { onTruncated: req.onTruncated });
  const source = reader ?? req.packets!;
  const live = req.live ?? false;
  const idleMs = req.liveIdleMs ?? 5000;
  let total = -1;
  let offline: Conversation[] | null = null;
  if (!live) {
    // Offline: read the whole capture first (a corrupt file fails before anything is sent), then
    // replay every session in start order.
    for await (const batch of source) feed(batch);
    offline = builder.finish().flatMap((c) => [...replaysOf(c)]);
    total = offline.length;
  }
  async function* liveConversations(): AsyncGenerator<Conversation> {
    for await (const batch of source) {
      feed(batch);
      if (started) builder.flushIdle(Date.now() - (firstSec * 1000 + Math.floor(firstNsec / 1e6)), idleMs);
      for (const c of builder.takeClosed()) yield* replaysOf(c);
    }
    // The sessions still open: planned (and -r's count made) before the total is taken.
    const rest = builder.finish().flatMap((c) => [...replaysOf(c)]);
    total = (builder.counters.sessions - builder.counters.noData - sampledOut) * copies;
    yield* rest;
  }
  let log: ResponseLogWriter | undefined;
  if (req.responseLog !== undefined) {
    log = await ResponseLogWriter.open(req.responseLog, {
      target: `${req.target.host}:${req.target.port}`,
      startedAt: new Date().toISOString(),
      maxResponseBytes: req.maxResponseBytes ?? 65_536,
    });
  }
  const onProgress = req.onProgress;
  // Loaded only for --mysql: a replay without it needs none of the MySQL code (nor its ed25519 library).
  const mode =
    req.mysql === undefined
      ? null
      : new (await import('../../mysql-replay/index.js')).MysqlMode(
          { ...req.mysql, orderWrites: false },
          req.mysqlLog ?? { warn: () => {}, error: () => {} },
          false, // the socket replay uses the transform for the login only: statement ids not remapped
        );
  const replayer = new SocketReplayer({
    ...req,
    mysql:
      mode === null
        ? undefined
        : (conv) =>
            mode.transformFor(
              {
                family: conv.client.includes(':') ? 6 : 4,
                clientIp: conv.client,
                clientPort: conv.clientPort,
                targetIp: req.target.host,
                targetPort: req.target.port,
              },
              !conv.syn,
              conv.turns[0]?.data ?? Buffer.alloc(0),
            ),
    log,
    onTurn,
    onProgress: onProgress === undefined ? undefined : (p) => onProgress({ ...p, sessionsTotal: total }),
  });
  let counters: SocketReplayCounters;
  try {
    counters = await replayer.replay(offline ?? liveConversations());
  } finally {
    await log?.close();
  }
  const sessionsTotal = builder.counters.sessions - builder.counters.noData;
  return {
    format: reader?.info?.format ?? null,
    mysql: mode?.statsLine() ?? null,
    mysqlFigures: mode?.figures() ?? null,
    capture: { ...decodeCounters, ...builder.counters },
    sessionsTotal,
    skipped: { noData: builder.counters.noData, sampledOut, aborted: counters.aborted },
    samplePercent: percent,
    copies,
    replaysTotal: (sessionsTotal - sampledOut) * copies,
    replay: counters,
    durationMs: performance.now() - t0,
    compare,
  };
}

/** A short human summary of a report (several lines, no trailing newline). */
export function formatReplayReport(r: ReplayReport): string {
  const c = r.capture;
  const p = r.replay;
  const f = p.failures;
  const secs = r.durationMs / 1000;
  // -r and -n are named only when given, so the lines stay as they were without them.
  const sampling = r.samplePercent < 100 ? `${r.skipped.sampledOut} sampled out (-r ${r.samplePercent}), ` : '';
  const copies =
    r.copies > 1
      ? `${r.sessionsTotal - r.skipped.sampledOut} × ${r.copies} copies (-n ${r.copies}) = ${r.replaysTotal} replayed: `
      : '';
  const copiesSent = r.copies > 1 ? ` (copies included: every session ${r.copies}×)` : '';
  return [
    `capture: ${c.read} packets read, ${c.packets} of the service (${c.clientPackets} client, ${c.serverPackets} server), ` +
      `${c.nonTcp} non-TCP, ${c.otherPorts} other ports, ${c.undecodable} undecodable, ${c.truncated} truncated`,
    `client stream: ${c.retransmitted} retransmitted, ${c.overlapping} overlapping, ${c.outOfOrder} out of order, ${c.gapBytes} gap bytes skipped`,
    `sessions: ${r.sessionsTotal} replayable (${c.joined} without SYN), skipped ${r.skipped.noData} without data, ${sampling}${r.skipped.aborted} aborted; ` +
      `${copies}${p.sessionsOk} ok, ${p.sessionsFailed} failed`,
    `sent: ${p.requestsSent} requests${copiesSent}, ${p.bytesSent} bytes; received ${p.responseBytes} response bytes (${p.responsesTruncated} responses truncated in the log)`,
    `failures: ${f.connectRefused} refused, ${f.reset} reset, ${f.timeout} timeout, ${f.targetClosed} closed by target, ${f.other} other`,
    `duration ${secs.toFixed(3)} s, ${secs > 0 ? (p.requestsSent / secs).toFixed(1) : '0'} requests/s, ${secs > 0 ? (p.sessionsDone / secs).toFixed(1) : '0'} sessions/s`,
    ...(r.mysql === null ? [] : [r.mysql]),
    ...(p.rateCap === null
      ? []
      : [
          `rate cap: --rps ${p.rateCap.requestsPerS}, achieved ${p.rateCap.achievedRequestsPerS.toFixed(1)} requests/s (first to last request sent)`,
        ]),
  ].join('\n');
}
