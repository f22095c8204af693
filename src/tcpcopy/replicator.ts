// tcpcopy's live edge: captures the client packets (a SocketCapture per named -i device on this
// thread, a ThreadedCapture for 'any' and other link types), feeds them to the
// pure SessionEngine, sends what it emits with a RawSender, registers its sessions with intercept
// over the channel and feeds the reply headers intercept returns back to the engine. One timer,
// re-armed after every input from engine.nextDeadlineMs(); time is a monotonic ms clock. The
// senders and the channel end are opened through ReplicatorIo (io.ts), a test's fakes in place.

import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { NativeIoError } from '../io/index.js';
import { ReopeningCapture, SocketCapture, ThreadedCapture } from '../capture/index.js';
import type { CaptureBatch, PacketSource } from '../capture/index.js';
import type { PacketSink } from '../send/index.js';
import type { ChannelLogger, RegistrationClient, ResponseMessage } from '../channel/index.js';
import type { ReplicatorConfig } from './config.js';
import { PacketDecoder, SegmentArena } from '../packet/index.js';
import type { SessionKey } from '../packet/index.js';
import { MysqlMode } from '../mysql-replay/index.js';
import { CompareTracker } from '../compare/index.js';
import type { CompareReport, ExchangeResult } from '../compare/index.js';
import { Deque, SessionEngine } from '../session/index.js';
import type { LiveFigures } from './memory-bound.js';
import type {
  EngineBounds,
  ClientSegment,
  CloseReason,
  EngineSink,
  OutgoingSegment,
  TargetAddress,
  TargetFanout,
  TargetResolver,
} from '../session/index.js';
import {
  formatCloseReasons,
  formatRewriteLine,
  formatCopyPortsLine,
  formatTcpcopyStats,
  formatTcpcopySummary,
  newEdgeCounters,
} from '../stats/index.js';
import type { Logger } from '../log/index.js';
import type { EdgeCounters, TcpcopyCounters } from '../stats/index.js';
import { ConvertScratch, clientSegmentInto, targetHeaderInto } from './convert.js';
import { TcpcopyDiagnosis } from './diagnosis.js';
import { SendErrorReporter, formatSendErrors } from './send-errors.js';
import { LoopGuard, buildMoreTargets, buildTargetResolver } from './resolver.js';
import { CopyPortAllocator } from './copy-ports.js';
import { ClientRewriter } from './rewrite.js';
import { liveReplicatorIo } from './io.js';
import type { ReplicatorIo } from './io.js';

export interface ReplicatorOptions {
  readonly config: ReplicatorConfig;
  readonly logger: Logger;
  /**
   * Monotonic whole milliseconds (the session engine's clock); default performance.now() rounded
   * down. Whole numbers stay small integers in V8: the engine's deadlines then cost no heap number
   * each (170 B per keep-alive request in bench engine), and no timer needs more than 1 ms.
   */
  readonly nowMs?: () => number;
  /** Called with the number of authenticated intercept connections whenever it changes. */
  readonly onConnectionsChange?: (authenticated: number) => void;
  /**
   * Asks each intercept that can (channel feature `stats`) for its own counters this often (ms),
   * kept for interceptStats(); 0 or absent: never (the dashboard asks).
   */
  readonly interceptStatsMs?: number;
  /** --compare-report: each compared exchange as it comes, with its target (`ip:port`). */
  readonly onCompareResult?: (target: string, r: ExchangeResult) => void;
  /** Offline replay (src/replay/packet/): packets come from this source instead of live captures on -i. */
  readonly source?: PacketSource;
  /** The senders and the channel end; default the real ones (liveReplicatorIo). */
  readonly io?: Partial<ReplicatorIo>;
  /**
   * The engine's bounds at start (-m's static ones), applied with setBounds so sheds at them count as
   * shed for memory; default: no session bound, --max-backlog.
   */
  readonly bounds?: EngineBounds;
}

/**
 * Live capture is fed to the engine in slices of at most this many milliseconds, one per event-loop
 * turn, so the target's replies (read from the channel in the poll phase) and the engine timer are
 * served between slices instead of waiting behind a whole backlog of captured packets.
 */
const CAPTURE_SLICE_MS = 4;
/** Bound on captured bytes waiting for their slice; past it, batches are dropped and counted. */
const CAPTURE_QUEUE_BYTES = 64 << 20;

/** Routes the channel's own log lines into the stats logger. */
function channelLogger(logger: Logger): ChannelLogger {
  return {
    info: (m) => logger.info(`channel: ${m}`),
    warn: (m) => logger.warn(`channel: ${m}`),
    error: (m) => logger.error(`channel: ${m}`),
  };
}

/** An intercept's own counters as it last sent them (NOTICE STATS). */
export interface InterceptStatsView {
  /** The intercept, `host:port` as given to -s. */
  readonly server: string;
  /** Milliseconds since they came. */
  readonly ageMs: number;
  readonly counters: ReadonlyMap<string, number>;
}

export class Replicator {
  readonly engine: SessionEngine;
  /** --mysql: the login re-signing of MySQL sessions; null when off. */
  readonly mysql: MysqlMode | null;
  /** --compare-report: the online and target responses of every session, paired and compared. */
  readonly compare: CompareTracker | null;
  readonly client: RegistrationClient;
  readonly edge: EdgeCounters = newEdgeCounters();
  private readonly config: ReplicatorConfig;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private readonly decoder = new PacketDecoder();
  /** The reused ClientSegment and TargetHeader the engine is fed with. */
  private readonly scratch = new ConvertScratch();
  /** Drops the target's own packets and the copies we sent from the capture. */
  private readonly loopGuard: LoopGuard;
  /** -r, -c, -n: which sessions are copied, from which address, how many times. */
  private readonly rewriter: ClientRewriter;
  private readonly copyPorts: CopyPortAllocator;
  /** Targets beyond the first of online endpoints listed with several in -x (null: none). */
  private readonly moreTargets: TargetFanout | null;
  /** Every target address:port (for a connection's sessions on the other targets). */
  private readonly targets: readonly TargetAddress[];
  /** Online address:port → target (also tells the online server's own packets apart). */
  private readonly resolveTarget: TargetResolver;
  private readonly senders = new Map<4 | 6, PacketSink>();
  /** Packets emitted while the current input is handled, per family, sent together by flushSends(). */
  private readonly pending = new Map<4 | 6, SegmentArena>();
  private flushScheduled = false;
  private armScheduled = false;
  private readonly captures: PacketSource[] = [];
  private readonly source: PacketSource | null;
  private readonly io: ReplicatorIo;
  private readonly startedMs: number;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = -1;
  /** The engine timer fired and its run waits in setImmediate, behind the I/O of this turn. */
  private timerDue = false;
  /** Live captured batches not yet fed to the engine (oldest first), and the next packet of the first. */
  private readonly captureQueue = new Deque<CaptureBatch>();
  private captureQueueNext = 0;
  private captureQueueBytes = 0;
  private captureQueueDrops = 0;
  private drainScheduled = false;
  private statsTimer: NodeJS.Timeout | null = null;
  private diagnosisTimer: NodeJS.Timeout | null = null;
  private readonly diagnosis: TcpcopyDiagnosis;
  private readonly sendErrorReporter = new SendErrorReporter();
  /** The intercepts' own counters, by server, with the time they came. */
  private readonly interceptCounters = new Map<string, { atMs: number; counters: ReadonlyMap<string, number> }>();
  private stopped = false;
  private payloadChecked = false;
  /** Sessions ended, by reason (a line of the summary). */
  readonly closeReasons = new Map<CloseReason, number>();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  /** Packets that found no sender (their family has no target). */
  private localSendErrors = 0;
  private stopping: Promise<void> | null = null;

  constructor(opts: ReplicatorOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.nowMs = opts.nowMs ?? (() => Math.floor(performance.now()));
    this.source = opts.source ?? null;
    this.io = { ...liveReplicatorIo(opts.config, opts.logger), ...opts.io };
    this.startedMs = this.nowMs();
    this.loopGuard = new LoopGuard(this.config.transfers);
    // -n: a copy's client port is one no live session holds towards its target (copy-ports.ts).
    this.moreTargets = buildMoreTargets(this.config.transfers);
    this.targets = [
      ...new Map(this.config.transfers.map((t) => [`${t.target.ip.text} ${t.target.port}`, t.target])).values(),
    ].map((t) => ({ ip: t.ip.text, port: t.port }));
    this.copyPorts = new CopyPortAllocator(
      this.config.copies,
      (_family, clientIp, clientPort, dst, dstPort) => {
        // Taken when a session of any target of this online endpoint holds the port.
        const target = this.resolveTarget(dst, dstPort);
        if (target === undefined) return null;
        const isn = this.engine.session(clientIp, clientPort, target.ip, target.port)?.clientIsn;
        if (isn !== undefined) return isn;
        for (const t of this.moreTargets?.(dst, dstPort) ?? []) {
          const other = this.engine.session(clientIp, clientPort, t.ip, t.port)?.clientIsn;
          if (other !== undefined) return other;
        }
        return null;
      },
      this.config.portFactor,
    );
    this.rewriter = new ClientRewriter({
      copies: this.config.copies,
      samplePercent: this.config.samplePercent,
      clientAddresses: this.config.clientAddresses,
      localhostAddress: this.config.localhostAddress,
      portFactor: this.config.portFactor,
      rampMs: this.config.rampMs,
      targetAddresses: new Set(this.config.transfers.map((t) => t.target.ip.text)),
      ports: this.copyPorts,
    });
    this.mysql =
      this.config.mysql === null
        ? null
        : new MysqlMode(this.config.mysql, { warn: (t) => this.logger.warn(t), error: (t) => this.logger.error(t) });
    const cmp = this.config.compare ?? null;
    this.compare =
      cmp === null
        ? null
        : new CompareTracker(
            {
              rules: { headers: cmp.headers, ignoreJson: cmp.ignoreJson, ignorePaths: cmp.ignorePaths ?? [] },
              keepBodyBytes: cmp.keepBodyBytes,
            },
            opts.onCompareResult,
          );
    const sink: EngineSink = {
      sendSegment: (seg) => this.send(seg),
      registerSession: (t) => {
        this.client.register(t);
        if (this.compare === null) return;
        // The target's replies are compared: as much of each payload as intercept forwards.
        this.compare.open(t);
        this.client.wantPayload(t, 0xffff);
      },
      wantReplyPayload: (t, bytes) => this.client.wantPayload(t, bytes),
      sessionClosed: (t, reason, clientIsn) => {
        this.closeReasons.set(reason, (this.closeReasons.get(reason) ?? 0) + 1);
        this.client.unregister(t);
        this.mysql?.sessionClosed(t);
        this.compare?.close(t, performance.now());
        // The port is free once no target's session of the connection is left.
        if (!this.otherTargetHolds(t, clientIsn)) this.copyPorts.sessionEnded(t.clientIp, t.clientPort, clientIsn);
      },
    };
    this.resolveTarget = buildTargetResolver(this.config.transfers);
    this.engine = new SessionEngine(
      this.resolveTarget,
      sink,
      {
        waitForResponse: this.config.waitForResponse,
        onlyWithSyn: this.config.synRequired,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        keepaliveTimeoutMs: this.config.keepaliveTimeoutMs,
        defaultMss: this.config.mssBytes,
        maxIpPacketBytes: this.config.mtuBytes,
        maxQueuedBytes: this.config.maxBacklogBytes,
      },
      this.mysql?.transformFor ?? null,
      this.moreTargets,
    );
    // -m's bounds go in as run-time bounds, so sheds at them count as shed for memory.
    if (opts.bounds !== undefined) this.engine.setBounds(this.nowMs(), opts.bounds);
    // A session the MySQL mode held for another's write goes on from a microtask: after the input
    // that answered that write, not from inside the engine's handling of it.
    this.mysql?.setResumer((t) =>
      queueMicrotask(() => {
        if (this.stopped) return;
        this.engine.resume(this.nowMs(), t);
        this.armAfterInput();
      }),
    );
    const secret = this.config.secret ?? undefined;
    this.diagnosis = new TcpcopyDiagnosis({ intercepts: this.config.intercepts.map((i) => `${i.ip.text}:${i.port}`) });
    this.client = this.io.openChannel({
      servers: this.config.intercepts.map((i) => ({ host: i.ip.text, port: i.port })),
      connectionsPerServer: this.config.connectionsPerIntercept,
      ...(secret === undefined ? {} : { secret }),
      logger: channelLogger(this.logger),
      onResponse: (r) => this.onResponse(r),
      transientResponses: true, // read at once by targetHeaderInto: one reused message, no object per reply
      onNotice: (m, where) => {
        const line = this.diagnosis.onNotice(this.nowMs(), m, where);
        if (line) this.logger.lines([line]);
      },
      statsIntervalMs: opts.interceptStatsMs ?? 0,
      onStats: (counters, server) => this.interceptCounters.set(server, { atMs: this.nowMs(), counters }),
      onConnectionsChange: (n) => {
        this.logger.notice(`channel: ${n} connection(s) to intercept authenticated`);
        if ((this.mysql !== null || this.compare !== null) && n > 0) this.checkReplyPayloads();
        opts.onConnectionsChange?.(n);
      },
    });
  }

  /**
   * Opens the raw senders and the captures (each on its own thread) and connects to intercept.
   * Rejects with NativeIoError on capture/send setup failures (what was opened is closed again).
   */
  async start(): Promise<void> {
    const devices = this.config.interfaces.length === 0 ? ['any'] : this.config.interfaces;
    try {
      for (const t of this.config.transfers) {
        const family = t.target.ip.family;
        if (this.senders.has(family)) continue;
        this.senders.set(family, await this.io.openSender(family));
        this.pending.set(family, new SegmentArena());
      }
      if (this.source !== null) {
        const src = this.source;
        src.on('batch', (b) => this.onBatch(b));
        src.on('error', (e) => this.logger.error(`offline source: ${e.message}`));
        this.captures.push(src);
      }
      for (const device of this.source !== null ? [] : devices) {
        const opts = {
          device,
          filter: this.config.captureFilter,
          snaplen: this.config.snaplenBytes,
          bufferBytes: this.config.captureBufferBytes,
        };
        // A capture that fails while running (the device went down) is opened again until it works.
        // A SocketCapture is read on this thread (its batch buffer reused: fed at once); a
        // ThreadedCapture's batches are queued and fed in slices.
        const kind = { direct: false };
        const c = await ReopeningCapture.open({
          open: async () => {
            const src = await openDeviceCapture(device, opts);
            kind.direct = src instanceof SocketCapture;
            return src;
          },
          onLost: (e) => this.logger.error(`capture on ${device}: ${e.message}; opening it again every second`),
          onBack: (downMs, attempts) =>
            this.logger.notice(
              `capture on ${device}: capturing again after ${(downMs / 1000).toFixed(1)} s (attempt ${attempts})`,
            ),
        });
        c.on('batch', (b: CaptureBatch) => (kind.direct ? this.onBatch(b) : this.queueBatch(b)));
        this.captures.push(c);
      }
    } catch (e) {
      await Promise.all(this.captures.map((c) => c.close()));
      await Promise.all([...this.senders.values()].map((s) => s.close()));
      throw e;
    }
    this.client.start();
    // Deployment diagnosis (diagnosis.ts): intercept unreachable, SYNs without SYN-ACKs.
    this.diagnosisTimer = setInterval(() => {
      this.logger.lines(
        this.diagnosis.tick(this.nowMs(), {
          connections: this.client.authenticatedConnections,
          sendSyn: this.engine.counters.sendSyn,
          conns: this.engine.counters.conns,
        }),
      );
      this.logger.lines(this.sendErrorReporter.tick(this.nowMs(), this.sendErrorsByCode()));
    }, 1000);
    this.diagnosisTimer.unref();
    this.loopDelay.enable();
    if (this.config.statsIntervalMs > 0) {
      this.statsTimer = setInterval(() => {
        this.logger.lines(formatTcpcopyStats(this.counters(), this.nowMs() - this.startedMs));
        if (this.mysql !== null) this.logger.lines([{ level: 'notice', text: this.mysql.statsLine() }]);
      }, this.config.statsIntervalMs);
    }
    if (this.source === null)
      this.logger.notice(`tcpcopy capturing on ${devices.join(',')} with filter "${this.config.captureFilter}"`);
  }

  /** Whether a session of the connection (client, ISN) on another target than `t`'s is still open. */
  private otherTargetHolds(t: SessionKey, clientIsn: number): boolean {
    if (this.moreTargets === null) return false;
    for (const target of this.targets) {
      if (target.ip === t.targetIp && target.port === t.targetPort) continue;
      const s = this.engine.session(t.clientIp, t.clientPort, target.ip, target.port);
      if (s !== undefined && s.clientIsn === clientIsn && s.state !== 'CLOSED') return true;
    }
    return false;
  }

  /** A snapshot of the statistics: the engine's counters and the edge's, under their own names. */
  counters(): TcpcopyCounters {
    let drops = 0;
    for (const c of this.captures) drops += c.stats().dropped;
    this.edge.captureDrops = drops + this.captureQueueDrops;
    let failed = 0;
    for (const s of this.senders.values()) failed += s.counters().failed;
    this.edge.sendErrors = this.localSendErrors + failed;
    this.edge.sampledOutSyns = this.rewriter.sampledOutSyns;
    this.edge.sampledOutPackets = this.rewriter.sampledOutPackets;
    this.edge.copyPackets = this.rewriter.copyPackets;
    this.edge.copyPortsMoved = this.copyPorts.counters.moved;
    this.edge.copyPortsExhausted = this.copyPorts.counters.exhausted;
    this.edge.replicationLagMs = this.engine.backlog(this.nowMs()).lagMs;
    if (this.loopDelay.count > 0) {
      this.edge.loopDelayP99Ms = this.loopDelay.percentile(99) / 1e6;
      this.edge.loopDelayMaxMs = this.loopDelay.max / 1e6;
    }
    return { ...this.engine.counters, ...this.edge };
  }

  /** What -m's governor watches: live sessions and the bytes they hold. */
  liveFigures(): LiveFigures {
    return { sessions: this.engine.size, queuedBytes: this.engine.counters.queuedBytes };
  }

  /** -m's governor changed the bounds: the engine sheds down to them now, and the resets go out. */
  setBounds(b: EngineBounds): void {
    if (this.stopped) return;
    this.engine.setBounds(this.nowMs(), b);
    this.armAfterInput();
  }

  /** Each intercept's own counters as it last sent them (asked for with interceptStatsMs). */
  interceptStats(): InterceptStatsView[] {
    const now = this.nowMs();
    return [...this.interceptCounters].map(([server, s]) => ({ server, ageMs: now - s.atMs, counters: s.counters }));
  }

  /** Live sessions by state (for --metrics). */
  sessionsByState(): Record<string, number> {
    return this.engine.sessionsByState();
  }

  /** Raw send error occurrences by code, over every sender (for --metrics). */
  sendErrorsByCode(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.senders.values())
      for (const [code, n] of Object.entries(s.counters().errors)) out[code] = (out[code] ?? 0) + n;
    return out;
  }

  /**
   * Stops capturing (what the capture threads had already queued is still processed), then timers
   * and the channel; logs the final summary. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await Promise.all(this.captures.map((c) => c.close()));
    this.drainCaptureQueue(Infinity);
    const elapsedMs = this.nowMs() - this.startedMs;
    // The target's side of every session still open is reset (closed: stopped N); sent below.
    this.engine.stopAll(this.nowMs());
    this.stopped = true;
    this.loopDelay.disable();
    if (this.diagnosisTimer) clearInterval(this.diagnosisTimer);
    if (this.timer) clearTimeout(this.timer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.timer = null;
    this.statsTimer = null;
    this.flushSends();
    await this.client.close();
    await Promise.all([...this.senders.values()].map((s) => s.close()));
    this.logger.lines(formatTcpcopySummary(this.counters(), elapsedMs));
    this.logger.lines([formatCloseReasons(this.closeReasons)]);
    const sendErrors = formatSendErrors(this.sendErrorsByCode());
    if (sendErrors !== null) this.logger.lines([sendErrors]);
    if (!this.rewriter.isIdentity) this.logger.lines([formatRewriteLine(this.edge)]);
    if (
      !this.rewriter.isIdentity &&
      (this.config.copies > 1 ||
        this.config.clientAddresses.length > 0 ||
        this.config.localhostAddress !== null ||
        this.config.portFactor > 0)
    ) {
      this.logger.lines([formatCopyPortsLine(this.edge)]);
    }
    if (this.mysql !== null) this.logger.lines([{ level: 'notice', text: this.mysql.statsLine() }]);
    if (this.compare !== null) {
      this.compare.finishAll();
      const { candidates, noise, noiseName } = this.compareReports();
      const lines: string[] = [];
      for (const [name, r] of candidates) {
        lines.push(...r.summaryLines(10, noise, noiseName, candidates.length > 1 ? `compare ${name}` : 'compare'));
      }
      if (noise !== undefined) lines.push(...noise.summaryLines(5, undefined, undefined, `compare noise ${noiseName}`));
      this.logger.lines(lines.map((text) => ({ level: 'notice' as const, text })));
      this.writeCompareReport();
    }
  }

  /**
   * The reports of the targets under test (every -x target but the noise target, in -x order) and the
   * noise target's (--compare-noise).
   */
  compareReports(): {
    candidates: Array<[string, CompareReport]>;
    noise: CompareReport | undefined;
    noiseName: string | undefined;
  } {
    const compare = this.compare;
    const noiseName = this.config.compare?.noiseTarget ?? undefined;
    if (compare === null) return { candidates: [], noise: undefined, noiseName };
    const names = this.targets.map((t) => (t.ip.includes(':') ? `[${t.ip}]:${t.port}` : `${t.ip}:${t.port}`));
    return {
      candidates: names.filter((n) => n !== noiseName).map((n) => [n, compare.reportFor(n)]),
      noise: noiseName === undefined ? undefined : compare.reportFor(noiseName),
      noiseName,
    };
  }

  /** --compare-report FILE could not be written at exit (the exit code says so). */
  compareReportFailed = false;

  /** --compare-report FILE: the report as JSON (a failure is logged, and the exit code is 1). */
  private writeCompareReport(): void {
    const file = this.config.compare?.reportFile;
    if (file === undefined || this.compare === null) return;
    const { candidates, noise, noiseName } = this.compareReports();
    const json =
      candidates.length === 1
        ? candidates[0]![1].toJSON(noise, noiseName)
        : { targets: Object.fromEntries(candidates.map(([n, r]) => [n, r.toJSON(noise, noiseName)])) };
    const whole = noise === undefined ? json : { ...json, noise: noise.toJSON() };
    try {
      writeFileSync(file, `${JSON.stringify(whole, null, 2)}\n`);
      this.logger.notice(`compare: report written to ${file}`);
    } catch (e) {
      this.logger.error(`compare: cannot write ${file}: ${(e as Error).message}`);
      this.compareReportFailed = true;
    }
  }

  /**
   * --mysql reads the target's login answers, which only an intercept that forwards reply payloads
   * gives: said once a connection is up (its FEATURES notice follows WELCOME at once).
   */
  private checkReplyPayloads(): void {
    setTimeout(() => {
      if (this.stopped || this.payloadChecked || this.client.authenticatedConnections === 0) return;
      this.payloadChecked = true;
      if (this.client.payloadConnections < this.client.authenticatedConnections) {
        if (this.mysql === null) {
          this.logger.error(
            'compare: an intercept does not forward reply payloads (older intercept, --reply-payload 0): ' +
              "the target's responses cannot be compared and are reported missing",
          );
          return;
        }
        this.logger.error(
          'mysql: an intercept does not forward reply payloads (older intercept, --reply-payload 0 or --tcpcopy1): ' +
            'logins cannot be re-signed and pass as captured',
        );
      }
    }, 500).unref();
  }

  /**
   * A batch fed to the engine at once: an offline batch (the offline scheduler paces itself), or a
   * SocketCapture read (at most 64 packets; the capture reads for at most its slice per loop turn,
   * the rest waits in the kernel's socket buffer).
   */
  private onBatch(batch: CaptureBatch): void {
    if (this.stopped) return;
    const now = this.nowMs();
    for (let i = 0; i < batch.count; i++) this.feed(batch, i, now);
    this.arm();
  }

  /**
   * A live batch: queued and fed in time slices (drainCaptureQueue; not to be confused with the
   * engine's backlog of unsent bytes). Under load the capture thread hands
   * over hundreds of milliseconds of packets at once; fed in one go they kept the channel's replies
   * (SYN-ACKs among them) and the timers waiting as long, so handshakes took longer than the target's
   * 1 s SYN-ACK timeout and our own SYN RTO: the target retransmitted SYN-ACKs, dropped half-open
   * connections and reset the late ACKs, and we retransmitted SYNs it had already answered.
   */
  private queueBatch(batch: CaptureBatch): void {
    if (this.stopped) return;
    if (this.captureQueueBytes + batch.buffer.length > CAPTURE_QUEUE_BYTES) {
      this.captureQueueDrops += batch.count;
      return;
    }
    this.captureQueue.push(batch);
    this.captureQueueBytes += batch.buffer.length;
    this.scheduleSlice();
  }

  /** One slice per event-loop turn (check phase); the next turn's timers and I/O come in between. */
  private scheduleSlice(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      if (this.stopped) return;
      this.drainCaptureQueue(CAPTURE_SLICE_MS);
      this.arm();
      if (this.captureQueue.length > 0) this.scheduleSlice();
    });
  }

  /** Feeds queued packets to the engine for at most budgetMs (checked every 32 packets). */
  private drainCaptureQueue(budgetMs: number): void {
    const start = this.nowMs();
    let now = start;
    let n = 0;
    while (this.captureQueue.length > 0) {
      const batch = this.captureQueue.at(0)!;
      while (this.captureQueueNext < batch.count) {
        this.feed(batch, this.captureQueueNext++, now);
        if ((++n & 31) === 0) {
          now = this.nowMs();
          if (now - start >= budgetMs) return;
        }
      }
      this.captureQueue.shift();
      this.captureQueueNext = 0;
      this.captureQueueBytes -= batch.buffer.length;
    }
  }

  private feed(batch: CaptureBatch, i: number, now: number): void {
    const dec = this.decoder;
    this.edge.capturedPackets++;
    if (!dec.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType)) {
      this.edge.ignoredPackets++;
      return;
    }
    if (dec.isFragment) this.edge.fragments++;
    // Loop guard: the target's own packets and the copies we sent (their destination is a target).
    if (this.loopGuard.isTargetTraffic(dec)) {
      this.edge.ignoredPackets++;
      return;
    }
    const seg = clientSegmentInto(dec, this.scratch);
    if (seg === null) {
      this.edge.ignoredPackets++;
      return;
    }
    if (this.compare !== null) {
      this.feedCompare(batch, i, seg, now);
      return;
    }
    // --mysql: the online server's answers to prepared statements (the capture filter lets them in;
    // an offline file has every packet) go to the session of the client they answer.
    if (this.mysql !== null && isPrepareAnswer(seg.payload) && this.resolveTarget(seg.src, seg.srcPort) !== undefined) {
      const n = this.rewriter.applyToReply(seg, now);
      for (let c = 0; c < n; c++) this.engine.onOnlineReply(now, this.rewriter.segment(c));
      return;
    }
    const n = this.rewriter.apply(seg, now);
    for (let c = 0; c < n; c++) this.engine.onClientPacket(now, this.rewriter.segment(c));
  }

  /**
   * --compare-report: a captured packet goes to the comparison too (capture time): a client's, after
   * the engine took it (the engine opens the session it belongs to); an online server's answer to a
   * client, to the comparison only.
   */
  private feedCompare(batch: CaptureBatch, i: number, seg: ClientSegment, now: number): void {
    const compare = this.compare!;
    const capturedMs = batch.tsSec(i) * 1000 + batch.tsNsec(i) / 1e6;
    const online = this.targetsOf(seg.src, seg.srcPort);
    if (online.length > 0) {
      const n = this.rewriter.applyToReply(seg, now);
      for (let c = 0; c < n; c++) {
        const s = this.rewriter.segment(c);
        for (const t of online) {
          const key = { family: s.family, clientIp: s.dst, clientPort: s.dstPort, targetIp: t.ip, targetPort: t.port };
          compare.online(key, s, capturedMs);
        }
      }
      return;
    }
    const n = this.rewriter.apply(seg, now);
    for (let c = 0; c < n; c++) {
      const s = this.rewriter.segment(c);
      this.engine.onClientPacket(now, s);
      for (const t of this.targetsOf(s.dst, s.dstPort)) {
        const key = { family: s.family, clientIp: s.src, clientPort: s.srcPort, targetIp: t.ip, targetPort: t.port };
        compare.client(key, s, capturedMs);
      }
    }
  }

  /** Every target of an online address:port (-x may list several). */
  private targetsOf(ip: string, port: number): TargetAddress[] {
    const first = this.resolveTarget(ip, port);
    if (first === undefined) return [];
    const more = this.moreTargets?.(ip, port);
    return more === undefined ? [first] : [first, ...more];
  }

  private onResponse(r: ResponseMessage): void {
    if (this.stopped) return;
    const hdr = targetHeaderInto(r, this.scratch);
    // Before the engine, which may close the session on this reply.
    if (this.compare !== null) {
      const key = {
        family: r.family,
        clientIp: hdr.dst,
        clientPort: hdr.dstPort,
        targetIp: hdr.src,
        targetPort: hdr.srcPort,
      };
      this.compare.target(key, hdr.seq, hdr.ack, hdr.flags, hdr.payloadLength, hdr.payload, performance.now());
    }
    this.engine.onTargetResponse(this.nowMs(), hdr);
    this.armAfterInput();
  }

  /**
   * arm() once after the input being handled (one channel read brings many replies): from
   * process.nextTick, when the read's replies have all been fed to the engine.
   */
  private armAfterInput(): void {
    if (this.armScheduled) return;
    this.armScheduled = true;
    process.nextTick(this.armTick);
  }

  private readonly armTick = (): void => {
    this.armScheduled = false;
    this.arm();
  };

  /**
   * Queues a packet for the target. Everything the engine emits while one input is handled (a
   * capture batch, a channel read, a timer) goes out in one sendmmsg per family from
   * process.nextTick, right after that input's handler returns. The channel's queued messages are
   * written first (the engine registers a session before it emits its SYN), so intercept hears of a
   * session before the target can answer it.
   */
  private send(seg: OutgoingSegment): void {
    if (this.stopped) return;
    if (this.compare !== null && seg.payload.length > 0) {
      const key = {
        family: seg.family,
        clientIp: seg.src,
        clientPort: seg.srcPort,
        targetIp: seg.dst,
        targetPort: seg.dstPort,
      };
      this.compare.sent(key, (seg.seq + seg.payload.length) >>> 0, performance.now());
    }
    const pending = this.pending.get(seg.family);
    if (!pending) {
      this.localSendErrors++;
      return;
    }
    pending.add(seg);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => {
        if (this.flushScheduled) this.flushSends();
      });
    }
  }

  private flushSends(): void {
    this.flushScheduled = false;
    this.client.flush();
    for (const [family, arena] of this.pending) {
      if (arena.count === 0) continue;
      const sender = this.senders.get(family);
      // Packets that fail are counted by the sender (the statistics' send errors), not logged one by one.
      if (sender && !sender.closed) sender.send(arena);
      arena.reset();
    }
  }

  /**
   * Re-arms the single engine timer for the earliest session deadline — only when that deadline
   * moved earlier than the armed one (a timer that fires early finds nothing due and re-arms), so
   * keep-alive traffic, whose deadlines move later on every packet, re-arms no timer per packet.
   */
  private arm(): void {
    if (this.stopped || this.timerDue) return;
    const at = this.engine.nextDeadlineMs();
    if (this.timer !== null && at >= 0 && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at < 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = -1;
        if (this.stopped) return;
        // Timers run before I/O in a libuv turn: after a stall, the SYN-ACK or ACK that makes a
        // retransmission needless may already wait in the channel socket. Read it first (poll phase),
        // then run the engine's deadlines (check phase).
        this.timerDue = true;
        setImmediate(() => {
          this.timerDue = false;
          if (this.stopped) return;
          this.engine.onTimer(this.nowMs());
          this.arm();
        });
      },
      Math.max(0, Math.ceil(at - this.nowMs())),
    );
  }
}

/**
 * The capture of one device: a SocketCapture for a named device where it can (openSocketCapture),
 * else a ThreadedCapture (libpcap on its own thread). Throws NativeIoError.
 */
async function openDeviceCapture(
  device: string,
  opts: { device: string; filter: string; snaplen: number; bufferBytes: number },
): Promise<PacketSource> {
  // The socket buffer also pays each packet's kernel overhead (truesize): 4× the ring's -B.
  const direct =
    device === 'any' ? null : openSocketCapture({ ...opts, bufferBytes: Math.min(opts.bufferBytes * 4, 1 << 30) });
  return direct ?? (await ThreadedCapture.open(opts));
}

/**
 * A SocketCapture on a named device, or null when libpcap is needed (ENOTSUP: not Ethernet or
 * loopback, a VLAN/MPLS filter, a filter the kernel refuses, or a socket buffer capped by
 * net.core.rmem_max without CAP_NET_ADMIN); other failures are thrown.
 */
function openSocketCapture(opts: {
  device: string;
  filter: string;
  snaplen: number;
  bufferBytes: number;
}): SocketCapture | null {
  try {
    return SocketCapture.open(opts);
  } catch (e) {
    if (e instanceof NativeIoError && e.code === 'ENOTSUP') return null;
    throw e;
  }
}

/**
 * A segment starting with a MySQL packet that may answer a COM_STMT_PREPARE (sequence id 1, then
 * 0x00 or 0xff: src/mysql-replay/statements.ts reads it). Checked before the source address, so most
 * client packets cost two byte reads (a login, at sequence id 1, is then told apart by its source).
 */
function isPrepareAnswer(p: Uint8Array): boolean {
  return p.length > 4 && p[3] === 1 && (p[4] === 0x00 || p[4] === 0xff);
}
