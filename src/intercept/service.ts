// intercept's live edge: captures the target's replies (a LiveCapture per -i device, -F filter,
// headers and --reply-payload bytes: HEADER_SNAPLEN + replyPayloadBytes, immediate delivery, polled
// on the main thread),
// turns each into a channel RESPONSE and hands it to the ChannelServer, which routes it to the
// tcpcopy connection that registered its session. Periodic statistics and a final summary. The
// captures and the channel end are opened through InterceptIo (io.ts), a test's fakes in place.

import { ReopeningCapture } from '../capture/index.js';
import type { CaptureBatch, PacketSource } from '../capture/index.js';
import type { ReplyRouter, ResponseMessage } from '../channel/index.js';
import type { InterceptConfig } from './config.js';
import { PacketDecoder } from '../packet/index.js';
import { createInterceptCounters, formatInterceptStats, formatInterceptSummary } from '../stats/index.js';
import type { InterceptCounters } from '../stats/index.js';
import type { Logger } from '../log/index.js';
import { DiagnosisRunner } from './diagnosis-runner.js';
import { liveInterceptIo } from './io.js';
import type { InterceptIo } from './io.js';
import { NfqueueEdge } from './nfqueue-edge.js';
import { ReplyCoalescer } from './coalesce.js';
import { responseFromDecoder } from './response.js';

/**
 * Bytes kept per captured reply for its headers: link header (Ethernet + 2 VLAN tags, or Linux cooked
 * v2), IPv6 with room for extension headers, and a TCP header with the longest options. The payload
 * length comes from the IP header; payload bytes are kept only for --reply-payload, beyond these.
 */
export const HEADER_SNAPLEN = 256;

export interface InterceptServiceOptions {
  readonly config: InterceptConfig;
  readonly logger: Logger;
  /** Monotonic milliseconds; default performance.now. */
  readonly nowMs?: () => number;
  /** The channel end and the captures; default the real ones (liveInterceptIo). */
  readonly io?: Partial<InterceptIo>;
}

export class InterceptService {
  readonly server: ReplyRouter;
  private readonly config: InterceptConfig;
  private readonly logger: Logger;
  private readonly nowMs: () => number;
  private readonly decoder = new PacketDecoder();
  /** Folds a batch's back-to-back replies of one session into one RESPONSE (coalesce.ts). */
  private readonly coalescer = new ReplyCoalescer();
  /** Not for --tcpcopy1 peers: the C tool gets every captured reply as its own intercept sends it. */
  private readonly folding: boolean;
  private readonly captures: PacketSource[] = [];
  private readonly io: InterceptIo;
  private readonly startedMs: number;
  private captured = 0;
  private responses = 0;
  private lost = 0;
  private statsTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private diagnosis: DiagnosisRunner | null = null;
  /** --nfqueue (traditional mode): the queue edge instead of the captures. */
  private nfqueue: NfqueueEdge | null = null;

  constructor(opts: InterceptServiceOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.nowMs = opts.nowMs ?? (() => performance.now());
    this.startedMs = this.nowMs();
    this.folding = !this.config.tcpcopy1;
    this.io = { ...liveInterceptIo(this.config, this.logger, this.nowMs), ...opts.io };
    this.server = this.io.openChannel(
      (session) => {
        this.diagnosis?.noteRegistration(session);
        this.nfqueue?.noteRegistration(session);
      },
      () => ({ ...this.counters() }),
    );
  }

  /** Listens for tcpcopy, then opens the captures. Resolves once listening. */
  async start(): Promise<void> {
    const addr = await this.server.listen();
    // --nfqueue: traditional mode reads the replies from NFQUEUE on the target.
    if (this.config.nfqueuePorts.length > 0) {
      const server = this.server;
      this.nfqueue = new NfqueueEdge({
        queue: this.config.queueNum,
        ports: this.config.nfqueuePorts,
        passList: this.config.passList.map((a) => a.text),
        route: (reply) => server.sendResponse(reply),
        payloadBytes: () => (server.wantsPayloads ? this.config.replyPayloadBytes : 0),
        maxPayloadBytes: this.config.replyPayloadBytes,
        logger: this.logger,
        nowMs: this.nowMs,
      });
      try {
        await this.nfqueue.start();
      } catch (e) {
        this.nfqueue = null;
        await this.server.close();
        throw e;
      }
      if (this.config.statsIntervalMs > 0) {
        this.statsTimer = setInterval(
          () => this.logger.lines(formatInterceptStats(this.counters())),
          this.config.statsIntervalMs,
        );
      }
      this.logger.notice(
        `intercept listening on ${addr.address}:${addr.port}, queueing replies from port(s) ${this.config.nfqueuePorts.join(',')} on NFQUEUE ${this.config.queueNum}${this.config.passList.length > 0 ? `, passing ${this.config.passList.map((a) => a.text).join(',')}` : ''}`,
      );
      return;
    }
    const devices = this.config.interfaces.length === 0 ? ['any'] : this.config.interfaces;
    try {
      for (const device of devices) {
        // Every relayed reply releases the next request, so it must cross without waiting: immediate
        // delivery (timeoutMs 0: TPACKET_V2, a wake-up on the first reply, whole ring drained per
        // wake-up under load) polled on this thread (no hand-over from a capture thread). The main
        // thread does little besides: decode a header, route it, write it. 256-byte frames make a
        // 32 MiB ring hold ~100k replies of slack.
        // A capture that fails while running (the device went down) is opened again until it works.
        const c = await ReopeningCapture.open({
          open: () =>
            Promise.resolve(
              this.io.openCapture({
                device,
                filter: this.config.captureFilter,
                snaplen: HEADER_SNAPLEN + this.config.replyPayloadBytes,
                timeoutMs: 0,
                bufferBytes: 32 << 20,
              }),
            ),
          onLost: (e) => this.logger.error(`capture on ${device}: ${e.message}; opening it again every second`),
          onBack: (downMs, attempts) =>
            this.logger.notice(
              `capture on ${device}: capturing again after ${(downMs / 1000).toFixed(1)} s (attempt ${attempts})`,
            ),
        });
        c.on('batch', (b: CaptureBatch) => this.onBatch(b));
        this.captures.push(c);
      }
    } catch (e) {
      await Promise.all(this.captures.map((c) => c.close()));
      await this.server.close();
      throw e;
    }
    // Diagnosis of misrouted replies (diagnosis.ts): probes and NOTICEs to tcpcopy.
    this.diagnosis = new DiagnosisRunner({
      devices,
      filter: this.config.captureFilter,
      logger: this.logger,
      nowMs: this.nowMs,
      notify: (n) => this.server.notify(n.code, n.message),
      totals: () => ({
        registrations: this.server.routing.counters.registrations,
        routed: this.server.routing.counters.routed,
      }),
    });
    this.diagnosis.start();
    if (this.config.statsIntervalMs > 0) {
      this.statsTimer = setInterval(
        () => this.logger.lines(formatInterceptStats(this.counters())),
        this.config.statsIntervalMs,
      );
    }
    this.logger.notice(
      `intercept listening on ${addr.address}:${addr.port}, capturing on ${devices.join(',')} with filter "${this.config.captureFilter}"`,
    );
  }

  /** Current statistics. */
  counters(): InterceptCounters {
    const c = createInterceptCounters();
    const r = this.server.routing.counters;
    const s = this.server.stats;
    c.capturedPackets = this.captured;
    c.responsePackets = this.responses;
    // RoutingTable counts parked replies delivered on registration in `routed` too.
    c.routedResponses = r.routed;
    c.socketWrites = r.routed - s.sendFailures;
    c.routeHits = r.routed - r.parkedDelivered;
    c.routeMisses = r.unroutable + r.parked;
    c.lostResponses = s.sendFailures + this.lost;
    c.registeredSessions = this.server.routing.size;
    c.registrations = r.registrations;
    c.expiredRegistrations = r.parkedExpired;
    c.connectedPeers = this.server.peerCount;
    c.refusedPeers = s.refused;
    for (const cap of this.captures) c.captureDrops += cap.stats().dropped;
    // many-to-many: routing takeovers and foreign unregistrations, our extra stats line.
    c.misroutedRegistrations = r.misrouted;
    c.foreignUnregistrations = r.foreignUnregistrations;
    c.mergedReplies = this.coalescer.merged;
    c.queuedBytes = this.server.queuedBytes ?? 0;
    if (this.nfqueue !== null) {
      // --nfqueue hook: queued packets count as captured
      const q = this.nfqueue.queueStats();
      c.capturedPackets = this.nfqueue.counters.queued;
      c.responsePackets = this.nfqueue.counters.responses;
      c.captureDrops = q.stagingLost + q.overruns;
    }
    return c;
  }

  /**
   * Stops capturing (replies the capture threads already queued are still relayed), then listening;
   * closes the peers and logs the final summary. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.diagnosis?.stop();
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    await Promise.all(this.captures.map((c) => c.close()));
    await this.nfqueue?.stop(); // --nfqueue hook: rules removed, queue answered and unbound
    const summary = formatInterceptSummary(this.counters(), this.nowMs() - this.startedMs);
    this.stopped = true;
    await this.server.close();
    this.logger.lines(summary);
    if (this.nfqueue !== null) this.logger.notice(this.nfqueue.summaryLine());
  }

  private onBatch(batch: CaptureBatch): void {
    if (this.stopped) return;
    const dec = this.decoder;
    const co = this.coalescer;
    for (let i = 0; i < batch.count; i++) {
      this.captured++;
      if (!dec.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType)) continue;
      if (this.folding && co.fold(dec)) {
        this.responses++;
        continue;
      }
      // Payload bytes only while a session asks for them (tcpcopy's MySQL mode): none otherwise.
      const payloadCap = this.server.wantsPayloads ? this.config.replyPayloadBytes : 0;
      const reply = responseFromDecoder(dec, payloadCap);
      if (reply === null) continue;
      this.responses++;
      this.relay(co.take());
      co.hold(reply, dec, payloadCap);
    }
    // The batch is all there is now: what is pending goes at once (a batch never waits for the next).
    this.relay(co.take());
  }

  private relay(reply: ResponseMessage | null): void {
    if (reply === null) return;
    try {
      this.server.sendResponse(reply);
    } catch (e) {
      this.lost++;
      this.logger.warn(`reply to ${reply.dst} not relayed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
