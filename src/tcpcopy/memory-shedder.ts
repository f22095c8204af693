// -m at run time: samples the resident set size every MEMORY_SAMPLE_MS, feeds the governor
// (memory-bound.ts) and gives the replicator the bounds it decides; logs each change of regime.
// A watchdog of the supervisor that asks to stop only when the governor is stuck (over the limit
// with nothing left to shed).

import type { StopRequest, Watchdog } from '../process/supervise.js';
import type { Logger } from '../log/index.js';
import type { EngineBounds } from '../session/index.js';
import { HIGH_WATER, LOW_WATER, MemoryGovernor, STUCK_CHECKS } from './memory-bound.js';
import type { LiveFigures } from './memory-bound.js';

/** How often the resident set size is read (process.memoryUsage.rss(): one read of /proc/self/statm). */
export const MEMORY_SAMPLE_MS = 500;

/** What the shedder steers: the replicator. */
export interface Sheddable {
  liveFigures(): LiveFigures;
  setBounds(b: EngineBounds): void;
}

const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);

export class MemoryShedder implements Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private readonly governor: MemoryGovernor;

  constructor(
    limitBytes: number,
    ceiling: EngineBounds,
    private readonly target: Sheddable,
    private readonly logger: Logger,
    private readonly intervalMs: number = MEMORY_SAMPLE_MS,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {
    this.governor = new MemoryGovernor(limitBytes, ceiling);
  }

  start(requestStop: (req: StopRequest) => void): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.check(requestStop), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private check(requestStop: (req: StopRequest) => void): void {
    const limit = this.governor.limitBytes;
    const d = this.governor.sample(this.rss(), this.target.liveFigures());
    if (d.bounds !== null) this.target.setBounds(d.bounds);
    const e = d.event;
    if (e === null) return;
    if (e.kind === 'shedding') {
      this.logger.warn(
        `memory use ${mb(e.rssBytes)} MB is over ${HIGH_WATER * 100} % of the -m limit of ${mb(limit)} MB: ` +
          `shedding the oldest sessions (bounds now ${e.bounds.sessions} sessions, ${mb(e.bounds.queuedBytes)} MB of backlog)`,
      );
    } else if (e.kind === 'relieved') {
      const c = this.governor.ceiling;
      this.logger.notice(
        `memory use ${mb(e.rssBytes)} MB is under ${LOW_WATER * 100} % of the -m limit again: ` +
          `bounds back at ${c.sessions} sessions, ${mb(c.queuedBytes)} MB of backlog`,
      );
    } else {
      this.stop();
      requestStop({
        reason:
          `memory use ${mb(e.rssBytes)} MB exceeds the -m limit of ${mb(limit)} MB with no session left to shed ` +
          `(${(STUCK_CHECKS * this.intervalMs) / 1000} s), stopping`,
        exitCode: 1,
      });
    }
  }
}
