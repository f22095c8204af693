// Offline pacing (pure): capture timestamps in, release times out. A packet is released at the sum
// of the gaps before it, each gap taken from the capture, cut to -I (idle compression, in capture
// time) and divided by -a (acceleration). --top-speed releases everything at 0. With -T the next
// loop continues from the last release of the previous one (no gap between loops). No clock, no
// timers: the OfflineSource (source.ts) turns these times into timer waits.

export interface ScheduleOptions {
  /** -a: speed-up factor, > 0 (1 = the capture's own timing; 0.5 = half speed). */
  readonly accel: number;
  /** -I: capture gaps longer than this (ms) are cut to it; null = no compression. */
  readonly idleMs: number | null;
  /** --top-speed: ignore timing (every release time is 0). */
  readonly topSpeed: boolean;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = { accel: 1, idleMs: null, topSpeed: false };

const NS_PER_MS = 1e6;
const NS_PER_SEC = 1_000_000_000n;

/**
 * Incremental schedule over a stream of packets: next(sec, nsec) gives the release time (ms after
 * the replay start) of each packet in file order; startLoop() before the first packet of each
 * further -T loop. Timestamps that go backwards count as a gap of 0 (the file order is kept).
 * Nanoseconds are counted in numbers: exact for replays up to 2^53 ns (104 days) of capture time.
 */
export class ReplaySchedule {
  readonly options: ScheduleOptions;
  /** Capture nanoseconds from the replay start to the last packet, after -I (before -a). */
  private elapsedNs = 0;
  private started = false;
  private prevSec = 0;
  private prevNsec = 0;
  private readonly idleNs: number | null;

  constructor(options: ScheduleOptions = DEFAULT_SCHEDULE) {
    if (!(options.accel > 0) || !Number.isFinite(options.accel))
      throw new RangeError(`accel must be a finite number > 0 (got ${options.accel})`);
    if (options.idleMs !== null && !(options.idleMs >= 0))
      throw new RangeError(`idleMs must be >= 0 (got ${options.idleMs})`);
    this.options = options;
    this.idleNs = options.idleMs === null ? null : Math.round(options.idleMs * 1e6);
  }

  /** Release time in ms of the next packet, captured at `sec` s + `nsec` ns since the epoch. */
  next(sec: number, nsec: number): number {
    if (this.started) {
      let gap = (sec - this.prevSec) * 1e9 + (nsec - this.prevNsec);
      if (gap < 0) gap = 0;
      if (this.idleNs !== null && gap > this.idleNs) gap = this.idleNs;
      this.elapsedNs += gap;
    }
    this.started = true;
    this.prevSec = sec;
    this.prevNsec = nsec;
    return this.releaseMs(this.elapsedNs);
  }

  /** The next packet starts a new loop: it is released with the previous loop's last packet. */
  startLoop(): void {
    this.started = false;
  }

  /** Release time of the last packet so far (0 before any). */
  get lastReleaseMs(): number {
    return this.releaseMs(this.elapsedNs);
  }

  private releaseMs(ns: number): number {
    if (this.options.topSpeed) return 0;
    const whole = Math.floor(ns / NS_PER_MS);
    const ms = whole + (ns - whole * NS_PER_MS) / 1e6;
    return ms / this.options.accel;
  }
}

/** Release times of every packet of `loops` passes over the timestamps `tsNs` (tests, estimates). */
export function scheduleReleases(
  tsNs: readonly bigint[],
  options: ScheduleOptions = DEFAULT_SCHEDULE,
  loops = 1,
): number[] {
  const s = new ReplaySchedule(options);
  const out: number[] = [];
  for (let loop = 0; loop < loops; loop++) {
    if (loop > 0) s.startLoop();
    for (const ts of tsNs) out.push(s.next(Number(ts / NS_PER_SEC), Number(ts % NS_PER_SEC)));
  }
  return out;
}
