// Relay latency probe for the nginx replication lab: headers-only tcpdump captures on onl's and tgt's
// eth0 during a load, read back into turn gaps per server and paired (see relay-latency.ts).
// The online capture stops when the load ends or after a bound (captureS); the target capture stops
// once the target logged as many requests as the online server had when its capture stopped, so
// both cover the same requests even though the target runs behind.
import type { LabHost } from './host.js';
import type { NginxServer } from './nginx.js';
import { pollUntil } from './proc-watch.js';
import { startHeaderCapture, readSegmentEvents } from './header-capture.js';
import type { HeaderCapture, HeaderCaptureResult } from './header-capture.js';
import { TurnTracker, summarizeRelay } from './relay-latency.js';
import type { RelaySummary } from './relay-latency.js';
import { LineCounter } from './lag.js';
import type { LogMark } from './lag.js';

/** What the probe needs of the replication lab. */
export interface ProbedLab {
  readonly onl: LabHost;
  readonly tgt: LabHost;
  readonly online: NginxServer;
  readonly target: NginxServer;
  readonly onlinePort: number;
  readonly targetPort: number;
}

export interface RelayProbeOptions {
  /** Stop the online capture after this many seconds even if the load goes on. Default: at the load's end. */
  captureS?: number;
  /** Packet bound per capture file (tcpdump -c). Default 1.5 million. */
  maxPackets?: number;
  /** Bound on the wait for the target to catch up with the online capture. Default 30 s. */
  catchUpMs?: number;
}

export interface RelayProbeResult extends RelaySummary {
  /** Packets tcpdump reported as dropped by the kernel on onl and tgt (-1: unknown). */
  onlineDropped: number;
  targetDropped: number;
  /** Segments read from each capture. */
  onlineSegments: number;
  targetSegments: number;
}

export class RelayProbe {
  private readonly rl: ProbedLab;
  private readonly onl: HeaderCapture;
  private readonly tgt: HeaderCapture;
  private readonly mark: LogMark;
  private readonly timer: NodeJS.Timeout | null;
  private onlStop: Promise<{ res: HeaderCaptureResult; onlineLines: number }> | null = null;
  private tgtStop: Promise<HeaderCaptureResult> | null = null;
  private readonly catchUpMs: number;

  private constructor(rl: ProbedLab, onl: HeaderCapture, tgt: HeaderCapture, mark: LogMark, opts: RelayProbeOptions) {
    this.rl = rl;
    this.onl = onl;
    this.tgt = tgt;
    this.mark = mark;
    this.catchUpMs = opts.catchUpMs ?? 30_000;
    const captureS = opts.captureS;
    this.timer = captureS === undefined ? null : setTimeout(() => void this.stopOnline(), captureS * 1000);
  }

  /** Starts both captures (call before the load, after taking the log mark). */
  static async start(rl: ProbedLab, mark: LogMark, opts: RelayProbeOptions = {}): Promise<RelayProbe> {
    const o = { ...(opts.maxPackets !== undefined ? { maxPackets: opts.maxPackets } : {}) };
    const onl = await startHeaderCapture(rl.onl, `tcp port ${rl.onlinePort}`, o);
    let tgt: HeaderCapture;
    try {
      tgt = await startHeaderCapture(rl.tgt, `tcp port ${rl.targetPort}`, o);
    } catch (e) {
      await onl.stop();
      throw e;
    }
    return new RelayProbe(rl, onl, tgt, mark, opts);
  }

  /** Stops the online capture, then (in the background) the target's once the target caught up. */
  private stopOnline(): Promise<{ res: HeaderCaptureResult; onlineLines: number }> {
    this.onlStop ??= (async () => {
      const res = await this.onl.stop();
      const onlineLines = (await this.rl.online.logLines()).length - this.mark.online;
      this.tgtStop ??= (async () => {
        const target = new LineCounter(this.rl.target.accessLogPath);
        await pollUntil(async () => (await target.count()) - this.mark.target >= onlineLines, this.catchUpMs, 200);
        return this.tgt.stop();
      })();
      return { res, onlineLines };
    })();
    return this.onlStop;
  }

  /**
   * Call when the load ended: stops the online capture (if its bound has not), waits for the target's
   * to stop (see above), reads both and pairs the turns.
   */
  async finish(): Promise<RelayProbeResult> {
    if (this.timer !== null) clearTimeout(this.timer);
    const { res: onl } = await this.stopOnline();
    const tgt = await (this.tgtStop ?? this.tgt.stop());
    const onlTurns = new TurnTracker();
    const tgtTurns = new TurnTracker();
    const onlineSegments = await readSegmentEvents(onl.path, this.rl.onlinePort, (e) => onlTurns.push(e));
    const targetSegments = await readSegmentEvents(tgt.path, this.rl.targetPort, (e) => tgtTurns.push(e));
    return {
      ...summarizeRelay(onlTurns.gaps, tgtTurns.gaps),
      onlineDropped: onl.droppedByKernel,
      targetDropped: tgt.droppedByKernel,
      onlineSegments,
      targetSegments,
    };
  }

  /** Stops both captures without reading them (on errors). */
  async abort(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    await Promise.allSettled([this.onl.stop(), this.tgt.stop()]);
  }
}
