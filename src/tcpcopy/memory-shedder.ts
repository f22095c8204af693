// -m at run time: samples the memory (resident set, live data) every MEMORY_SAMPLE_MS, feeds the governor
// (memory-bound.ts), runs the full collections it asks for and gives the replicator the bounds it
// decides; logs each change of regime.
// A watchdog of the supervisor that asks to stop only when the governor is stuck (over the limit
// with nothing left to shed).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { StopRequest, Watchdog } from '../process/supervise.js';
import type { Logger } from '../log/index.js';
import type { EngineBounds } from '../session/index.js';
import { HIGH_WATER, LOW_WATER, MemoryGovernor, STUCK_CHECKS } from './memory-bound.js';
import type { LiveFigures, MemorySample } from './memory-bound.js';

/**
 * The resident set size and the live data now (process.memoryUsage: one read of /proc/self/statm and
 * V8's heap statistics).
 */
export function readMemory(): MemorySample {
  const m = process.memoryUsage();
  return { rssBytes: m.rss, liveBytes: m.heapUsed + m.arrayBuffers };
}

/** How often the memory is read. */
export const MEMORY_SAMPLE_MS = 250;

/** What the shedder steers: the replicator. */
export interface Sheddable {
  liveFigures(): LiveFigures;
  setBounds(b: EngineBounds): void;
}

const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);

/**
 * A full garbage collection, or null where it cannot be had. Node exposes `gc` only under
 * --expose-gc; the flag set at run time gives it to contexts made afterwards.
 */
export function fullCollection(): (() => void) | null {
  const g = globalThis as { gc?: unknown };
  if (typeof g.gc === 'function') return g.gc as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

export class MemoryShedder implements Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private readonly governor: MemoryGovernor;
  /** Full collections run under memory pressure. */
  collections = 0;
  /** The highest resident set size sampled. */
  peakRssBytes = 0;
  private lowered = 0;

  constructor(
    limitBytes: number,
    ceiling: EngineBounds,
    private readonly target: Sheddable,
    private readonly logger: Logger,
    private readonly intervalMs: number = MEMORY_SAMPLE_MS,
    private readonly read: () => MemorySample = readMemory,
    private readonly collect: (() => void) | null = fullCollection(),
    private readonly setHeapGrowth: (percent: number) => void = (p) =>
      setFlagsFromString(`--heap-growing-percent=${p}`),
  ) {
    this.governor = new MemoryGovernor(limitBytes, ceiling, collect !== null);
  }

  start(requestStop: (req: StopRequest) => void): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.check(requestStop), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.logger.notice(
      `memory: resident peak ${mb(this.peakRssBytes)} MB of the -m limit of ${mb(this.governor.limitBytes)} MB, ` +
        `${this.lowered} bound change(s) for memory, ${this.collections} full collection(s)`,
    );
  }

  private sample(): MemorySample {
    const m = this.read();
    if (m.rssBytes > this.peakRssBytes) this.peakRssBytes = m.rssBytes;
    return m;
  }

  private check(requestStop: (req: StopRequest) => void): void {
    const limit = this.governor.limitBytes;
    const budget = mb(this.governor.budgetBytes);
    let d = this.governor.sample(this.sample(), this.target.liveFigures());
    if (d.heapGrowthPercent !== null) this.setHeapGrowth(d.heapGrowthPercent);
    if (d.collect) {
      this.collect?.();
      this.collections++;
      d = this.governor.sample(this.sample(), this.target.liveFigures());
      if (d.heapGrowthPercent !== null) this.setHeapGrowth(d.heapGrowthPercent);
    }
    if (d.bounds !== null) {
      this.target.setBounds(d.bounds);
      this.lowered++;
    }
    const e = d.event;
    if (e === null) return;
    if (e.kind === 'shedding') {
      this.logger.warn(
        `live data ${mb(e.liveBytes)} MB is over ${HIGH_WATER * 100} % of the ${budget} MB the -m limit of ${mb(limit)} MB leaves: ` +
          `shedding the oldest sessions (bounds now ${e.bounds.sessions} sessions, ${mb(e.bounds.queuedBytes)} MB of backlog)`,
      );
    } else if (e.kind === 'relieved') {
      const c = this.governor.ceiling;
      this.logger.notice(
        `live data ${mb(e.liveBytes)} MB is under ${LOW_WATER * 100} % of the ${budget} MB budget again: ` +
          `bounds back at ${c.sessions} sessions, ${mb(c.queuedBytes)} MB of backlog`,
      );
    } else {
      this.stop();
      requestStop({
        reason:
          `live data ${mb(e.liveBytes)} MB (resident ${mb(e.rssBytes)} MB) is over what the -m limit of ${mb(limit)} MB allows ` +
          `(${budget} MB live) with nothing left to shed (${(STUCK_CHECKS * this.intervalMs) / 1000} s), stopping`,
        exitCode: 1,
      });
    }
  }
}
