// -m MB as a bound kept by shedding, not by exiting. Pure: figures in, decisions out.
//
// Three layers:
// - Static bounds derived from -m at start (`staticBounds`): as many live sessions as half of what
//   the limit leaves above BASE_BYTES holds at SESSION_BYTES_ESTIMATE each, and a backlog of at
//   most a quarter of the limit. They alone keep a flood of new sessions (a SYN flood, a target that
//   answers nothing) under the limit.
// - V8's heap growth held to TIGHT_GROWTH_PERCENT while the resident set is above TIGHT_ON of the
//   limit: compactions come sooner and smaller instead of the heap growing to a few times its live
//   data.
// - A governor fed every check with the live data (V8's used heap and the ArrayBuffers) against a
//   budget: the limit less NATIVE_BYTES, over LIVE_HEADROOM (`MemoryGovernor.sample`). Above
//   HIGH_WATER of it it first asks for a full garbage collection (at most once per
//   COLLECT_EVERY_CHECKS; a resident set over the limit asks for one too): the used heap counts
//   garbage until one. Still above after it, it lowers both bounds to 80 % of what is live (the engine then sheds
//   the oldest sessions and the ones furthest behind); below LOW_WATER it raises them back by a
//   quarter per check, never above the static ones. Only when it stays over with the bounds at
//   their floors and nothing live above them for STUCK_CHECKS checks in a row does it ask to stop:
//   that memory is not the sessions', and no shedding can free it.

import type { EngineBounds } from '../session/index.js';

/**
 * Resident memory a live session costs, bytes, with the garbage V8 lets accumulate. Measured (heap
 * snapshot of tcpcopy under a flood of SYN + request sessions): 2.5 KB of live heap per session
 * (Session, its timers, reassembler, pacer, RTT estimator, deques, the held request); V8 then lets
 * its old space grow to three or four times the live data before it compacts (130 MB live, no
 * mark-compact until 450 MB), so a session costs about 8 KB of resident memory at a sustained rate
 * of new sessions.
 */
export const SESSION_BYTES_ESTIMATE = 8192;
/** What tcpcopy uses with no session (code, capture and send buffers, the channel): about 64 MB measured. */
export const BASE_BYTES = 64 * 1024 * 1024;
/** The session bound never goes below this (a tiny -m still replays something). */
export const MIN_SESSIONS = 256;
/** The backlog bound never goes below this. */
export const MIN_BACKLOG_BYTES = 1024 * 1024;
/** Above this share of the limit the governor sheds. */
export const HIGH_WATER = 0.85;
/** Below this share of the limit the governor raises the bounds back. */
export const LOW_WATER = 0.6;
/** Checks in a row over the budget at the floors before the governor asks to stop. */
export const STUCK_CHECKS = 40;
/** Above this share of the limit (resident) V8's heap grows by TIGHT_GROWTH_PERCENT only... */
export const TIGHT_ON = 0.5;
/** ...until the resident set is below this share again (V8's own growing factor then). */
export const TIGHT_OFF = 0.35;
/**
 * V8's heap growing factor while tight (`--heap-growing-percent`, read at every collection, so it
 * can be set at run time). Measured (a loop keeping 300,000 objects live): the resident peak was
 * 336 MB with V8's own factor and 175 MB with 30 %, for 17 mark-compacts instead of 4.
 */
export const TIGHT_GROWTH_PERCENT = 25;
/** A full collection is asked for at most once per this many checks. */
export const COLLECT_EVERY_CHECKS = 2;

/**
 * The bounds -m gives the engine at start: half of the limit above BASE_BYTES for sessions, and the backlog bound
 * (`--max-backlog`, 0 = none) held to a quarter of the limit.
 */
export function staticBounds(limitBytes: number, backlogBytes: number): EngineBounds {
  const quarter = Math.floor(limitBytes / 4);
  return {
    sessions: Math.max(MIN_SESSIONS, Math.floor(Math.max(0, limitBytes - BASE_BYTES) / 2 / SESSION_BYTES_ESTIMATE)),
    queuedBytes: Math.max(MIN_BACKLOG_BYTES, backlogBytes === 0 ? quarter : Math.min(backlogBytes, quarter)),
  };
}

/** What is live in the engine at a check. */
export interface LiveFigures {
  readonly sessions: number;
  readonly queuedBytes: number;
}

/** One reading of the process's memory. */
export interface MemorySample {
  /** Resident set size. */
  readonly rssBytes: number;
  /**
   * Data alive in JS: V8's used heap (garbage included until a collection) and the ArrayBuffers'
   * memory. Not the resident set: after a backlog drains, the allocator keeps the freed memory
   * resident (reused, not returned), and shedding sessions for it would shed for nothing.
   */
  readonly liveBytes: number;
}

/**
 * Headroom of the resident set over the live data: V8's heap held to TIGHT_GROWTH_PERCENT, its
 * young generation, and what the live figure does not see of each buffer (its native backing store
 * record, the allocator's overhead). Measured behind a slow target (hundreds of thousands of held
 * 100-byte requests): resident 195 MB for 72 MB live over the native part, a factor of 1.9; 2.25
 * leaves room for the growth between two checks.
 */
export const LIVE_HEADROOM = 2.25;

/**
 * Resident memory that is not live JS data: code, Node's and the addon's native parts, the capture
 * ring. Measured at start: 68 MB resident with 10 MB of heap.
 */
export const NATIVE_BYTES = 56 * 1024 * 1024;

/** The live data -m allows: the limit less NATIVE_BYTES, over the headroom. */
export function liveBudget(limitBytes: number): number {
  return Math.floor(Math.max(0, limitBytes - NATIVE_BYTES) / LIVE_HEADROOM);
}

export type GovernorEvent =
  /** Live data went above HIGH_WATER of the budget: the bounds were lowered (and the engine sheds). */
  | { readonly kind: 'shedding'; readonly liveBytes: number; readonly bounds: EngineBounds }
  /** The bounds are back at the static ones. */
  | { readonly kind: 'relieved'; readonly liveBytes: number }
  /** Over the budget at the floors for STUCK_CHECKS checks: stop (exit 1). */
  | { readonly kind: 'stuck'; readonly liveBytes: number; readonly rssBytes: number };

export interface GovernorDecision {
  /**
   * Collect the garbage first, then sample again at once (that sample decides). When true, bounds
   * and event are null.
   */
  readonly collect: boolean;
  /** The bounds to give the engine now, or null when they stay. */
  readonly bounds: EngineBounds | null;
  /** Something to log (a change of regime), or null. */
  readonly event: GovernorEvent | null;
  /** V8's heap growing percent to set now (0: V8's own factor), or null when it stays. */
  readonly heapGrowthPercent: number | null;
}

export class MemoryGovernor {
  private current: EngineBounds;
  private pressed = false;
  private stuck = 0;
  private checks = 0;
  private collectedAt = -Infinity;
  private tight = false;
  /** The live data allowed (liveBudget of the limit). */
  readonly budgetBytes: number;

  constructor(
    readonly limitBytes: number,
    readonly ceiling: EngineBounds,
    /** Whether full collections can be had (without, the bounds are lowered on every check under pressure). */
    private readonly canCollect = true,
  ) {
    this.current = ceiling;
    this.budgetBytes = liveBudget(limitBytes);
  }

  /** The bounds in force. */
  get bounds(): EngineBounds {
    return this.current;
  }

  /**
   * One check: the memory now and what the engine holds. Pressure is live data over HIGH_WATER of
   * the budget (a resident set over the limit asks for a collection, no more). Under pressure a collection comes first
   * (the used heap counts garbage until one, much of it from sessions just shed), and the bounds
   * are lowered on the sample right after it; the checks in between hold them unless the live data
   * is over the budget itself.
   */
  sample(m: MemorySample, live: LiveFigures): GovernorDecision {
    this.checks++;
    const growth = this.growth(m.rssBytes);
    const used = m.liveBytes;
    const over = used > this.budgetBytes;
    const pressure = used > HIGH_WATER * this.budgetBytes;
    const collected = this.collectedAt === this.checks;
    // A resident set over the limit asks for a collection too (it may be garbage), but sheds
    // nothing by itself: what the allocator keeps resident after a backlog drains is not live.
    const wantsCollection = pressure || m.rssBytes > this.limitBytes;
    if (wantsCollection && !collected && this.canCollect && this.checks - this.collectedAt >= COLLECT_EVERY_CHECKS) {
      this.collectedAt = this.checks;
      this.checks--; // the sample after the collection belongs to this check
      return { collect: true, bounds: null, event: null, heapGrowthPercent: growth };
    }
    // Stuck: over with the bounds at their floors and nothing live above them: shedding is done.
    const floors = this.current.sessions === MIN_SESSIONS && this.current.queuedBytes === MIN_BACKLOG_BYTES;
    const withinFloors = live.sessions <= MIN_SESSIONS && live.queuedBytes <= MIN_BACKLOG_BYTES;
    this.stuck = over && floors && withinFloors ? this.stuck + 1 : 0;
    if (this.stuck >= STUCK_CHECKS) {
      this.stuck = 0;
      return {
        collect: false,
        bounds: null,
        event: { kind: 'stuck', liveBytes: used, rssBytes: m.rssBytes },
        heapGrowthPercent: growth,
      };
    }
    if (pressure) {
      // Between collections the bounds hold, unless the live data is over the budget itself: then
      // growth outruns the collections (a backlog of small requests grows megabytes a second).
      if (!collected && this.canCollect && !over)
        return { collect: false, bounds: null, event: null, heapGrowthPercent: growth };
      const lowered: EngineBounds = {
        sessions: lower(this.current.sessions, live.sessions, MIN_SESSIONS),
        queuedBytes: lower(this.current.queuedBytes, live.queuedBytes, MIN_BACKLOG_BYTES),
      };
      const changed = !same(lowered, this.current);
      this.current = lowered;
      const began = !this.pressed;
      this.pressed = true;
      return {
        collect: false,
        bounds: changed ? lowered : null,
        event: began ? { kind: 'shedding', liveBytes: used, bounds: lowered } : null,
        heapGrowthPercent: growth,
      };
    }
    if (used < LOW_WATER * this.budgetBytes && this.pressed) {
      const raised: EngineBounds = {
        sessions: raise(this.current.sessions, this.ceiling.sessions),
        queuedBytes: raise(this.current.queuedBytes, this.ceiling.queuedBytes),
      };
      this.current = raised;
      const back = same(raised, this.ceiling);
      if (back) this.pressed = false;
      return {
        collect: false,
        bounds: raised,
        event: back ? { kind: 'relieved', liveBytes: used } : null,
        heapGrowthPercent: growth,
      };
    }
    return { collect: false, bounds: null, event: null, heapGrowthPercent: growth };
  }

  /** Tight heap growth above TIGHT_ON, V8's own below TIGHT_OFF; the percent when it changes. */
  private growth(rssBytes: number): number | null {
    const tight =
      rssBytes > TIGHT_ON * this.limitBytes ? true : rssBytes < TIGHT_OFF * this.limitBytes ? false : this.tight;
    if (tight === this.tight) return null;
    this.tight = tight;
    return tight ? TIGHT_GROWTH_PERCENT : 0;
  }
}

/** 80 % of what is live, never above the bound in force (0 there means none) nor below `floor`. */
function lower(bound: number, live: number, floor: number): number {
  const target = Math.max(floor, Math.floor(live * 0.8));
  return bound === 0 ? target : Math.min(bound, target);
}

/** A quarter more, up to the ceiling (0 = none: straight back to it). */
function raise(bound: number, ceiling: number): number {
  if (ceiling === 0) return 0;
  return Math.min(ceiling, Math.ceil(bound * 1.25));
}

function same(a: EngineBounds, b: EngineBounds): boolean {
  return a.sessions === b.sessions && a.queuedBytes === b.queuedBytes;
}
