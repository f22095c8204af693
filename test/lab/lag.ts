// Replication lag and replay rate from the lab nginx access logs, whose lines end in nginx's $msec
// (seconds since the epoch, ms resolution, taken when the request was logged). The lag is how long
// the target kept serving replicated requests after the online server served its last one.
import { open } from 'node:fs/promises';
import type { NginxServer } from './nginx.js';
import { pollUntilSettled } from './proc-watch.js';

/** The $msec time (seconds) at the end of a lab access log line; NaN if the line has none. Pure. */
export function lineTimeS(line: string): number {
  const m = / (\d+\.\d+)$/.exec(line);
  return m ? Number(m[1]) : NaN;
}

/** How many lines, and the first and last logging time among them (NaN when none has a time). */
export interface LogSpan {
  count: number;
  firstS: number;
  lastS: number;
}

export function logSpan(lines: readonly string[]): LogSpan {
  let firstS = NaN;
  let lastS = NaN;
  for (const l of lines) {
    const t = lineTimeS(l);
    if (Number.isNaN(t)) continue;
    if (!(t >= firstS)) firstS = t;
    if (!(t <= lastS)) lastS = t;
  }
  return { count: lines.length, firstS, lastS };
}

export interface LagResult {
  /** Requests the online server logged (since the mark). */
  online: number;
  /** Requests the target logged (since the mark). */
  replicated: number;
  /** Last target time − last online time, in seconds (NaN without lines on both). */
  lagS: number;
  /** First target time − first online time, in seconds: how late the replay started. */
  startDelayS: number;
  /** Last − first logging time on each server, in seconds. */
  onlineSpanS: number;
  targetSpanS: number;
  /**
   * The target's request rate over its active span as a fraction of the online server's over its
   * own: (replicated / targetSpanS) / (online / onlineSpanS). NaN when a span is zero or missing.
   */
  rateFraction: number;
}

/** Lag, spans and rate fraction from the online and target lines of one load. Pure. */
export function lagFromLines(onlineLines: readonly string[], targetLines: readonly string[]): LagResult {
  const o = logSpan(onlineLines);
  const t = logSpan(targetLines);
  const onlineSpanS = o.lastS - o.firstS;
  const targetSpanS = t.lastS - t.firstS;
  const rate = (n: number, s: number): number => (s > 0 ? n / s : NaN);
  return {
    online: o.count,
    replicated: t.count,
    lagS: t.lastS - o.lastS,
    startDelayS: t.firstS - o.firstS,
    onlineSpanS,
    targetSpanS,
    rateFraction: rate(t.count, targetSpanS) / rate(o.count, onlineSpanS),
  };
}

/**
 * Counts the lines of a growing log file by reading only what was appended since the last call (cheap
 * enough to poll during a load, unlike re-reading the whole log). A missing file has 0 lines.
 */
export class LineCounter {
  readonly path: string;
  private offset = 0;
  private lines = 0;
  private readonly buf = Buffer.allocUnsafe(1 << 20);

  constructor(path: string) {
    this.path = path;
  }

  async count(): Promise<number> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.lines;
      throw e;
    }
    try {
      for (;;) {
        const { bytesRead } = await fh.read(this.buf, 0, this.buf.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const chunk = this.buf.subarray(0, bytesRead);
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.lines++;
      }
    } finally {
      await fh.close();
    }
    return this.lines;
  }
}

/** Line counts of both logs, taken before a load so that measureLag looks at that load only. */
export interface LogMark {
  online: number;
  target: number;
}

/** What measureLag needs: the nginx replication lab (or anything with its two servers). */
export interface LoggedPair {
  readonly online: NginxServer;
  readonly target: NginxServer;
}

export async function markLogs(rl: LoggedPair): Promise<LogMark> {
  return { online: (await rl.online.logLines()).length, target: (await rl.target.logLines()).length };
}

export interface MeasureLagOptions {
  /** Only lines after this mark count (default: all lines). */
  since?: LogMark;
  /** Bound on the wait for the target log to stop growing. Default 15 s. */
  timeoutMs?: number;
  /** The target log counts as settled when unchanged for this long. Default 500 ms. */
  quietMs?: number;
}

/**
 * Call after a load ended: waits until the target's access log stops growing, then returns the lag,
 * the request counts and the rate fraction of the lines logged since opts.since.
 */
export async function measureLag(rl: LoggedPair, opts: MeasureLagOptions = {}): Promise<LagResult> {
  const since = opts.since ?? { online: 0, target: 0 };
  const counter = rl.target.accessLogPath !== '' ? new LineCounter(rl.target.accessLogPath) : null;
  const read = async (): Promise<number> => (counter !== null ? counter.count() : (await rl.target.logLines()).length);
  await pollUntilSettled(read, opts.timeoutMs ?? 15_000, opts.quietMs ?? 500);
  const online = (await rl.online.logLines()).slice(since.online);
  const target = (await rl.target.logLines()).slice(since.target);
  return lagFromLines(online, target);
}
