// The offline edge: reads a capture file (pcap or pcapng, src/pcap/) and emits its packets as
// CaptureBatch events at the times the ReplaySchedule (schedule.ts) gives, with one timer per wait
// (no busy loop), so the Replicator uses it in place of its live captures. scanCaptureFile() is the
// pre-scan: it reads the whole file once before the replay, so a corrupt file fails before anything
// is sent, and it counts what the report shows about the input (analyze.ts) and the replay's length.
//
// -T loops: loop k (k = 0, 1, ...) shifts every client port by k × LOOP_PORT_STRIDE (mod 65535,
// never 0), in the request direction (source port) and in the online replies (destination port),
// with the TCP checksum updated. A loop's sessions are therefore new connections to the target and
// do not collide with the sessions of the previous loop that are still running; where a shifted
// port does meet a port still in use, the engine holds the new connection behind the old one (as
// for any reused client port), so nothing is mixed up.
//
// --pps / --rps (pace.ts) cap the release rate on top of the schedule: a packet goes at its
// scheduled time or when the caps that count it allow, whichever is later. --pps counts every packet; --rps the
// client packets that start a request by the engine's pacing rule (RequestStarts).

import { EventEmitter } from 'node:events';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { CaptureBatch } from '../../packet/batch.js';
import { PacketDecoder, TcpFlags, writeU16Adjusting } from '../../packet/index.js';
import { readCaptureFile } from '../../pcap/index.js';
import type { ReadCaptureOptions } from '../../pcap/index.js';
import type { CaptureFileInfo, CaptureFileReader } from '../../pcap/index.js';
import { CaptureAnalyzer } from '../analyze.js';
import { RateMeter, RatePacer, RequestStarts } from '../pace.js';
import type { RateCapFigures } from '../../stats/offline-report.js';
import type { InputCounts, OnlineEndpointKey } from '../analyze.js';
import { ReplaySchedule } from './schedule.js';
import type { ScheduleOptions } from './schedule.js';

/** Client-port shift per -T loop (a prime, so successive loops spread over the port space). */
export const LOOP_PORT_STRIDE = 7919;
/** Most packets per emitted batch; at top speed the source yields to the event loop after each. */
export const MAX_BATCH_PACKETS = 256;
/** A wait shorter than this is not slept: the packet is released now (timer granularity is 1 ms). */
const RELEASE_EARLY_MS = 0.5;

/** Port `port` in loop `loop` (loop 0 = unchanged). */
export function loopPort(port: number, loop: number): number {
  if (loop === 0) return port;
  return ((port - 1 + loop * LOOP_PORT_STRIDE) % 65535) + 1;
}

export interface CaptureScan {
  readonly info: CaptureFileInfo;
  /** The input's counts for one pass over the file. */
  readonly counts: InputCounts;
  /** Replay time of one pass with the schedule's options, ms (0 at top speed). */
  readonly passDurationMs: number;
}

/**
 * Reads the whole file once: counts (analyze.ts) and the schedule's duration of one pass. Rejects
 * with the reader's CaptureFileError (file name and byte offset) when the file is corrupt.
 */
export async function scanCaptureFile(
  path: string,
  online: readonly OnlineEndpointKey[],
  schedule: ScheduleOptions,
  read: ReadCaptureOptions = {},
): Promise<CaptureScan> {
  const reader = readCaptureFile(path, read);
  const analyzer = new CaptureAnalyzer(online);
  const s = new ReplaySchedule(schedule);
  for await (const batch of reader) {
    analyzer.add(batch);
    for (let i = 0; i < batch.count; i++) s.next(batch.tsSec(i), batch.tsNsec(i));
  }
  return { info: reader.info as CaptureFileInfo, counts: analyzer.finish(), passDurationMs: s.lastReleaseMs };
}

export interface OfflineSourceOptions {
  readonly path: string;
  readonly schedule: ScheduleOptions;
  /** -T: passes over the file (≥ 1). */
  readonly loops: number;
  /** The -x online endpoints: which port of a packet is the client's (for the loop port shift). */
  readonly online: readonly OnlineEndpointKey[];
  /** Monotonic ms; default performance.now. */
  readonly nowMs?: () => number;
  /** Opens the file for one pass (default readCaptureFile with `read`). */
  readonly open?: (path: string) => CaptureFileReader;
  /** Reader options of the default open (a file cut short: ReadCaptureOptions.onTruncated). */
  readonly read?: ReadCaptureOptions;
  /** --pps: most packets released per second; null or absent = no cap. */
  readonly pps?: number | null;
  /** --rps: most requests (client packets starting one) released per second; null or absent = no cap. */
  readonly rps?: number | null;
}

export interface OfflineProgress {
  /** Packets and captured bytes emitted so far (all loops). */
  readonly packets: number;
  readonly bytes: number;
  /** The loop being replayed (0-based). */
  readonly loop: number;
  /** Release time of the last packet emitted, ms after the start (the replay's position). */
  readonly positionMs: number;
  /** ms since start(). */
  readonly elapsedMs: number;
}

export interface OfflineSourceEvents {
  batch: [CaptureBatch];
  error: [Error];
  /** Every packet of every loop has been emitted. */
  end: [];
}

export class OfflineSource extends EventEmitter<OfflineSourceEvents> {
  private readonly opts: OfflineSourceOptions;
  private readonly nowMs: () => number;
  private readonly decoder = new PacketDecoder();
  private readonly schedule: ScheduleOptions;
  /** The packets [pendingStart, pendingEnd) of `pendingBatch` are due and not emitted yet. */
  private pendingBatch: CaptureBatch | null = null;
  private pendingStart = 0;
  private pendingEnd = 0;
  private closed = false;
  private running: Promise<void> | null = null;
  private startedMs = 0;
  private packets = 0;
  private bytes = 0;
  private loop = 0;
  private positionMs = 0;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private readonly ppsPacer: RatePacer | null;
  private readonly rpsPacer: RatePacer | null;
  private readonly ppsMeter = new RateMeter();
  private readonly rpsMeter = new RateMeter();
  private readonly requestStarts = new RequestStarts();

  constructor(opts: OfflineSourceOptions) {
    super();
    if (!Number.isInteger(opts.loops) || opts.loops < 1)
      throw new RangeError(`loops must be an integer >= 1 (got ${opts.loops})`);
    this.opts = opts;
    this.schedule = opts.schedule;
    this.nowMs = opts.nowMs ?? (() => performance.now());
    this.ppsPacer = opts.pps == null ? null : new RatePacer(opts.pps);
    this.rpsPacer = opts.rps == null ? null : new RatePacer(opts.rps);
  }

  /** The caps given and the rates achieved so far (null for a cap not given). */
  rateCaps(): { pps: RateCapFigures | null; rps: RateCapFigures | null } {
    const figures = (p: RatePacer | null, m: RateMeter): RateCapFigures | null =>
      p === null ? null : { capPerS: p.ratePerS, released: m.count, achievedPerS: m.ratePerS };
    return { pps: figures(this.ppsPacer, this.ppsMeter), rps: figures(this.rpsPacer, this.rpsMeter) };
  }

  /** Starts the replay; 'end' follows the last packet, 'error' a read failure (then no 'end'). */
  start(): void {
    if (this.running !== null) return;
    this.startedMs = this.nowMs();
    this.running = this.run().then(
      () => {
        if (!this.closed) this.emit('end');
      },
      (e: unknown) => {
        if (!this.closed) this.emit('error', e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  progress(): OfflineProgress {
    return {
      packets: this.packets,
      bytes: this.bytes,
      loop: this.loop,
      positionMs: this.positionMs,
      elapsedMs: this.running === null ? 0 : this.nowMs() - this.startedMs,
    };
  }

  /** Same shape as a live capture's statistics: a file drops nothing. */
  stats(): { dropped: number } {
    return { dropped: 0 };
  }

  /** Stops emitting (no more events). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    const sched = new ReplaySchedule(this.schedule);
    const open = this.opts.open ?? ((p: string) => readCaptureFile(p, this.opts.read ?? {}));
    for (let loop = 0; loop < this.opts.loops && !this.closed; loop++) {
      this.loop = loop;
      if (loop > 0) sched.startLoop();
      this.requestStarts.clear();
      const reader = open(this.opts.path);
      // A file batch is of one link type; the packets due are emitted as copies of its runs.
      for await (const batch of reader) {
        this.pendingBatch = batch;
        this.pendingStart = this.pendingEnd = 0;
        for (let i = 0; i < batch.count; i++) {
          if (this.closed) return;
          // The clock starts with the first packet in hand (not before the file's first read).
          if (this.packets === 0 && this.pendingEnd === this.pendingStart) this.startedMs = this.nowMs();
          const at = sched.next(batch.tsSec(i), batch.tsNsec(i));
          if (this.pendingEnd - this.pendingStart >= MAX_BATCH_PACKETS) {
            this.flush(loop);
            if (this.schedule.topSpeed) await yieldToLoop();
          }
          let due = this.startedMs + at;
          const request = this.rpsPacer !== null && this.startsRequest(batch, i);
          const capped = this.ppsPacer !== null || request;
          if (capped) due = this.allowed(due, request);
          // Under a cap a packet never goes before it is allowed (the cap absorbs a late timer instead).
          const early = capped ? 0 : RELEASE_EARLY_MS;
          let wait = due - this.nowMs();
          if (wait > early) {
            this.flush(loop);
            while (wait > early && !this.closed) {
              await this.sleep(Math.ceil(wait));
              wait = due - this.nowMs();
            }
            if (this.closed) return;
          }
          this.positionMs = at;
          this.pendingEnd = i + 1;
          if (capped) {
            const now = this.nowMs();
            this.ppsPacer?.take(now, due);
            if (request) this.rpsPacer.take(now, due);
            if (this.ppsPacer !== null) this.ppsMeter.record(now);
            if (request) this.rpsMeter.record(now);
          }
        }
        this.flush(loop);
      }
    }
    this.pendingBatch = null;
  }

  /** When a packet scheduled at `due` is allowed by the caps that count it (taken once it goes). */
  private allowed(due: number, request: boolean): number {
    let at = due;
    if (this.ppsPacer !== null) at = this.ppsPacer.earliest(at);
    if (request) at = this.rpsPacer!.earliest(at);
    return at;
  }

  /** Whether packet `i` of `batch` is a client packet that starts a request (RequestStarts). */
  private startsRequest(batch: CaptureBatch, i: number): boolean {
    const d = this.decoder;
    if (!d.decode(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType) || !d.isTcp || d.isFragment)
      return false;
    const dst = d.dstAddress();
    if (!this.opts.online.some((o) => o.port === d.dstPort && (o.ip === null || o.ip === dst))) return false;
    return this.requestStarts.observe({
      key: `${d.srcAddress()}|${d.srcPort}|${dst}|${d.dstPort}`,
      syn: d.hasFlags(TcpFlags.SYN),
      end: (d.flags & (TcpFlags.FIN | TcpFlags.RST)) !== 0,
      payloadBytes: d.payloadLength,
      ack: d.ack,
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(() => {
        this.sleepTimer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  /** Emits the pending packets as a batch of their own (ports shifted in the copy for loop > 0). */
  private flush(loop: number): void {
    const from = this.pendingBatch;
    if (from === null || this.pendingEnd === this.pendingStart) return;
    const batch = from.copy(this.pendingStart, this.pendingEnd);
    this.pendingStart = this.pendingEnd;
    if (loop > 0)
      for (let i = 0; i < batch.count; i++)
        this.shiftPorts(batch.buffer, batch.offset(i), batch.caplen(i), batch.linkType, loop);
    this.packets += batch.count;
    this.bytes += batch.bytes;
    if (!this.closed) this.emit('batch', batch);
  }

  /** Shifts the client port of the frame at buf[offset, offset + length) for `loop` (TCP checksum updated). */
  private shiftPorts(buf: Buffer, offset: number, length: number, linkType: number, loop: number): void {
    const d = this.decoder;
    if (!d.decode(buf, offset, length, linkType) || !d.isTcp || d.isFragment) return;
    const src = d.srcAddress();
    const dst = d.dstAddress();
    const isOnline = (ip: string, port: number): boolean =>
      this.opts.online.some((o) => o.port === port && (o.ip === null || o.ip === ip));
    let field = -1;
    let port = 0;
    if (isOnline(dst, d.dstPort)) {
      field = d.tcpOffset;
      port = d.srcPort;
    } else if (isOnline(src, d.srcPort)) {
      field = d.tcpOffset + 2;
      port = d.dstPort;
    }
    if (field < 0) return;
    writeU16Adjusting(buf, field, loopPort(port, loop), d.tcpOffset + 16);
  }
}
