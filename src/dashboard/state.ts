// What the live dashboard shows, computed from one snapshot of tcpcopy's counters (and the
// comparison's live view) and the snapshot before it: rates per second between the two. Pure.
import type { TcpcopyCounters } from '../stats/index.js';
import type { CompareLiveView } from '../compare/index.js';
import { LIVE_BUCKETS_MS } from '../compare/index.js';

export interface DashboardInput {
  /** Monotonic ms of the snapshot. */
  readonly timeMs: number;
  readonly counters: TcpcopyCounters;
  /** Channel connections to intercept authenticated now. */
  readonly interceptConnections: number;
  /** Bytes queued on the channel, not yet written. */
  readonly channelQueuedBytes: number;
  /** The comparison's live view; null without --compare-report. */
  readonly compare: CompareLiveView | null;
  /** Each intercept's own counters as it last sent them (NOTICE STATS); empty when none can. */
  readonly interceptOwn: readonly InterceptOwnInput[];
}

/** One intercept's own counters, `ageMs` after they came. */
export interface InterceptOwnInput {
  readonly server: string;
  readonly ageMs: number;
  readonly counters: ReadonlyMap<string, number>;
}

/** One intercept's own counters as the page shows them. */
export interface InterceptOwnState {
  readonly server: string;
  /** Seconds since intercept sent them. */
  readonly ageS: number;
  /** Its counters by name, in the order it sent them. */
  readonly counters: Readonly<Record<string, number>>;
  /** Replies it routed to a tcpcopy per second (all its tcpcopys). */
  readonly routedPerS: number;
}

export interface DashboardState {
  /** Seconds since the first snapshot. */
  readonly uptimeS: number;
  /** Payload segments sent per captured client payload segment (as in the metrics). */
  readonly ratio: number;
  /** Captured client payload segments per second, and those sent to the target. */
  readonly capturedPerS: number;
  readonly sentPerS: number;
  readonly lagMs: number;
  readonly active: number;
  readonly sessionsEnded: number;
  readonly captured: number;
  readonly sent: number;
  /** intercept's view: replies relayed, with payload, connections, queued bytes. */
  readonly intercept: {
    readonly connections: number;
    readonly replies: number;
    readonly repliesWithPayload: number;
    readonly repliesPerS: number;
    readonly queuedBytes: number;
  };
  /** intercept's own view, one entry per intercept (sorted by server). */
  readonly interceptOwn: readonly InterceptOwnState[];
  /** Bucket upper bounds (ms) of compare.buckets. */
  readonly bucketsMs: readonly number[];
  readonly compare: CompareLiveView | null;
}

function rate(now: number, before: number, dtMs: number): number {
  return dtMs <= 0 ? 0 : Math.round(((now - before) * 1000) / dtMs);
}

/** Keeps the previous snapshot for the rates. */
export class DashboardModel {
  private first: DashboardInput | null = null;
  private prev: DashboardInput | null = null;
  private last: DashboardState | null = null;

  update(s: DashboardInput): DashboardState {
    this.first ??= s;
    const p = this.prev ?? s;
    const dt = s.timeMs - p.timeMs;
    // Two snapshots closer than 200 ms: the rates of the last one stand (a page load between ticks).
    if (this.last !== null && dt < 200) return { ...this.last, compare: s.compare };
    const c = s.counters;
    const state: DashboardState = {
      uptimeS: Math.round((s.timeMs - this.first.timeMs) / 1000),
      ratio: c.clientContent === 0 ? 0 : c.sendContent / c.clientContent,
      capturedPerS: rate(c.clientContent, p.counters.clientContent, dt),
      sentPerS: rate(c.sendContent, p.counters.sendContent, dt),
      lagMs: c.replicationLagMs,
      active: c.active,
      sessionsEnded: c.released,
      captured: c.clientContent,
      sent: c.sendContent,
      intercept: {
        connections: s.interceptConnections,
        replies: c.resp,
        repliesWithPayload: c.respContent,
        repliesPerS: rate(c.resp, p.counters.resp, dt),
        queuedBytes: s.channelQueuedBytes,
      },
      interceptOwn: s.interceptOwn
        .map((i) => {
          const before = p.interceptOwn.find((b) => b.server === i.server) ?? i;
          const routed = (x: InterceptOwnInput): number => x.counters.get('routedResponses') ?? 0;
          return {
            server: i.server,
            ageS: Math.round(i.ageMs / 1000),
            counters: Object.fromEntries(i.counters),
            routedPerS: rate(routed(i), routed(before), dt),
          };
        })
        .sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0)),
      bucketsMs: LIVE_BUCKETS_MS,
      compare: s.compare,
    };
    this.prev = s;
    this.last = state;
    return state;
  }
}
