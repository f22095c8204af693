// -m MB as a bound kept by shedding, not by exiting. Pure: figures in, decisions out.
//
// Two layers:
// - Static bounds derived from -m at start (`staticBounds`): as many live sessions as half the limit
//   holds at SESSION_BYTES_ESTIMATE each, and a backlog of at most a quarter of the limit. They
//   alone keep a flood of new sessions (a SYN flood, a target that answers nothing) under the limit.
// - A governor fed with the resident set size every check (`MemoryGovernor.sample`): above
//   HIGH_WATER of the limit it lowers both bounds to 80 % of what is live now (the engine then sheds
//   the oldest sessions and the ones furthest behind), and below LOW_WATER it raises them back by a
//   quarter per check, never above the static ones. Only when the resident set stays above the
//   limit with nothing left to shed (no session, no backlog) for STUCK_CHECKS checks in a row does it
//   ask to stop: that memory is not the sessions', and no shedding can free it.

import type { EngineBounds } from '../session/index.js';

/**
 * Memory a live session costs, bytes. Measured: 1.9 KB (JS heap and RSS) per session in SYN_SENT
 * holding a 100-byte request (200,000 sessions, `node --expose-gc`); doubled for the reassembly,
 * pacing and transform state a busy session adds.
 */
export const SESSION_BYTES_ESTIMATE = 4096;
/** The session bound never goes below this (a tiny -m still replays something). */
export const MIN_SESSIONS = 256;
/** The backlog bound never goes below this. */
export const MIN_BACKLOG_BYTES = 1024 * 1024;
/** Above this share of the limit the governor sheds. */
export const HIGH_WATER = 0.85;
/** Below this share of the limit the governor raises the bounds back. */
export const LOW_WATER = 0.6;
/** Checks in a row over the limit with nothing to shed before the governor asks to stop. */
export const STUCK_CHECKS = 20;

/**
 * The bounds -m gives the engine at start: half the limit for sessions, and the backlog bound
 * (`--max-backlog`, 0 = none) held to a quarter of the limit.
 */
export function staticBounds(limitBytes: number, backlogBytes: number): EngineBounds {
  const quarter = Math.floor(limitBytes / 4);
  return {
    sessions: Math.max(MIN_SESSIONS, Math.floor(limitBytes / 2 / SESSION_BYTES_ESTIMATE)),
    queuedBytes: Math.max(MIN_BACKLOG_BYTES, backlogBytes === 0 ? quarter : Math.min(backlogBytes, quarter)),
  };
}

/** What is live in the engine at a check. */
export interface LiveFigures {
  readonly sessions: number;
  readonly queuedBytes: number;
}

export type GovernorEvent =
  /** The resident set went above HIGH_WATER: the bounds were lowered (and the engine sheds). */
  | { readonly kind: 'shedding'; readonly rssBytes: number; readonly bounds: EngineBounds }
  /** The bounds are back at the static ones. */
  | { readonly kind: 'relieved'; readonly rssBytes: number }
  /** Over the limit with nothing to shed for STUCK_CHECKS checks: stop (exit 1). */
  | { readonly kind: 'stuck'; readonly rssBytes: number };

export interface GovernorDecision {
  /** The bounds to give the engine now, or null when they stay. */
  readonly bounds: EngineBounds | null;
  /** Something to log (a change of regime), or null. */
  readonly event: GovernorEvent | null;
}

export class MemoryGovernor {
  private current: EngineBounds;
  private pressed = false;
  private stuck = 0;

  constructor(
    readonly limitBytes: number,
    readonly ceiling: EngineBounds,
  ) {
    this.current = ceiling;
  }

  /** The bounds in force. */
  get bounds(): EngineBounds {
    return this.current;
  }

  sample(rssBytes: number, live: LiveFigures): GovernorDecision {
    const nothingToShed = live.sessions === 0 && live.queuedBytes === 0;
    this.stuck = rssBytes > this.limitBytes && nothingToShed ? this.stuck + 1 : 0;
    if (this.stuck >= STUCK_CHECKS) {
      this.stuck = 0;
      return { bounds: null, event: { kind: 'stuck', rssBytes } };
    }
    if (rssBytes > HIGH_WATER * this.limitBytes) {
      const lowered: EngineBounds = {
        sessions: lower(this.current.sessions, live.sessions, MIN_SESSIONS),
        queuedBytes: lower(this.current.queuedBytes, live.queuedBytes, MIN_BACKLOG_BYTES),
      };
      const changed = !same(lowered, this.current);
      this.current = lowered;
      const began = !this.pressed;
      this.pressed = true;
      return {
        bounds: changed ? lowered : null,
        event: began ? { kind: 'shedding', rssBytes, bounds: lowered } : null,
      };
    }
    if (rssBytes < LOW_WATER * this.limitBytes && this.pressed) {
      const raised: EngineBounds = {
        sessions: raise(this.current.sessions, this.ceiling.sessions),
        queuedBytes: raise(this.current.queuedBytes, this.ceiling.queuedBytes),
      };
      this.current = raised;
      const back = same(raised, this.ceiling);
      if (back) this.pressed = false;
      return { bounds: raised, event: back ? { kind: 'relieved', rssBytes } : null };
    }
    return { bounds: null, event: null };
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
