// Rate caps of an offline replay (--pps, --rps), pure: times come in as values, no clock and no
// timers. RatePacer is a token bucket of depth one (GCRA): an event is allowed one interval after the
// previous one was allowed, or when it is ready if that is later (so a pause earns no credit). The
// first event's timeline starts when it actually went. A later event that went late by up to
// TOLERANCE_MS (a timer fires late) counts at its allowed time, so the lateness does not push the rest
// back and the achieved rate stays at the cap; later than that, the timeline moves to it. So the k-th
// event after the first goes at least k intervals after it, and two consecutive events at least one
// interval less the tolerance apart. A cap only delays: an event the capture's timing holds back
// further goes at that later time.
// RequestStarts tells which client packets start a request, for --rps over the packet transport.
// RateMeter measures the achieved rate for the report.

import { startsNewRequest } from '../session/pacer.js';

/** Most events per second a cap may name (--pps, --rps). */
export const MAX_RATE_PER_S = 10_000_000;
/** Lateness (ms) that still counts an event at its allowed time: timers fire up to about this late. */
export const TOLERANCE_MS = 2;

export class RatePacer {
  readonly ratePerS: number;
  /** 1000 / ratePerS: the spacing of events at the cap. */
  readonly intervalMs: number;
  readonly toleranceMs: number;
  /** When the next event is allowed (ms); -Infinity before the first. */
  private nextMs = Number.NEGATIVE_INFINITY;

  constructor(ratePerS: number, toleranceMs = TOLERANCE_MS) {
    if (!Number.isFinite(ratePerS) || !(ratePerS > 0) || ratePerS > MAX_RATE_PER_S)
      throw new RangeError(`rate must be a number > 0 and <= ${MAX_RATE_PER_S} per second (got ${ratePerS})`);
    if (!(toleranceMs >= 0) || !Number.isFinite(toleranceMs))
      throw new RangeError(`toleranceMs must be a finite number >= 0 (got ${toleranceMs})`);
    this.ratePerS = ratePerS;
    this.intervalMs = 1000 / ratePerS;
    this.toleranceMs = toleranceMs;
  }

  /** When an event ready at `readyMs` is allowed to go: readyMs, or later when the cap holds it. */
  earliest(readyMs: number): number {
    return Math.max(readyMs, this.nextMs);
  }

  /**
   * The event allowed at `allowedMs` (earliest() of its ready time, or later) went at `atMs` (not
   * before allowedMs): the next is allowed one interval after allowedMs — or after atMs when it went
   * later than the tolerance.
   */
  take(atMs: number, allowedMs: number): void {
    // The first event anchors the timeline where it went: were its lateness forgiven, the events
    // after it would close the gap, and the rate from the first to the last would exceed the cap.
    const first = this.nextMs === Number.NEGATIVE_INFINITY;
    const base = first || atMs > allowedMs + this.toleranceMs ? atMs : allowedMs;
    this.nextMs = Math.max(base, this.nextMs) + this.intervalMs;
  }
}

/** Events counted at the times they happened: how many, and the rate from the first to the last. */
export class RateMeter {
  private n = 0;
  private firstMs = 0;
  private lastMs = 0;

  record(nowMs: number): void {
    if (this.n === 0) this.firstMs = nowMs;
    this.lastMs = nowMs;
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** (count − 1) / (last − first) per second — the spacing a cap bounds; 0 below two events or no time between. */
  get ratePerS(): number {
    const span = this.lastMs - this.firstMs;
    return this.n < 2 || span <= 0 ? 0 : ((this.n - 1) * 1000) / span;
  }
}

/** A client TCP packet as RequestStarts sees it. */
export interface ClientSegment {
  /** The session's key (client and server address and port). */
  readonly key: string;
  readonly syn: boolean;
  /** FIN or RST: the session ends (its state is dropped). */
  readonly end: boolean;
  readonly payloadBytes: number;
  /** The acknowledgement number (the captured client's position in the server's reply). */
  readonly ack: number;
}

/**
 * Which client packets start a request, by the engine's pacing rule (src/session/pacer.ts): the
 * first payload of a session, and then payload whose acknowledgement number is beyond the one that
 * started the previous request (the real client had received more of the reply when it sent it).
 * Retransmissions and further segments of the same request carry the same ack and do not count.
 */
export class RequestStarts {
  /** Ack of the last request's first segment, per session. */
  private readonly lastAck = new Map<string, number>();

  /** True when `s` starts a new request. */
  observe(s: ClientSegment): boolean {
    if (s.syn) this.lastAck.delete(s.key);
    let starts = false;
    if (s.payloadBytes > 0) {
      const prev = this.lastAck.get(s.key);
      if (prev === undefined || startsNewRequest(s.ack, prev)) {
        this.lastAck.set(s.key, s.ack);
        starts = true;
      }
    }
    if (s.end) this.lastAck.delete(s.key);
    return starts;
  }

  /** Sessions tracked (tests; the state is bounded by the sessions open in the capture). */
  get sessions(): number {
    return this.lastAck.size;
  }

  /** Forgets every session (a new -T loop). */
  clear(): void {
    this.lastAck.clear();
  }
}
