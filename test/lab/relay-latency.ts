// Relay latency of replication, computed from the TCP segments seen on a server's interface (pure).
// For one connection and request index i, the turn gap is the time from the server's last response
// segment of request i to the first segment of request i+1. Measured on the online server (the real
// client's think time plus the network) and on the target (the same plus what tcpcopy and intercept
// add to relay the turn), relay(i) = gap_target(i) − gap_online(i).

/** One TCP segment of a client ⇄ server conversation, as seen on the server's interface. */
export interface SegmentEvent {
  /** Capture time in µs (any epoch, the same for all events of one capture). */
  tsUs: number;
  /** The client's port: with the client address fixed in the lab, it names the connection. */
  clientPort: number;
  /** True for client → server, false for server → client. */
  fromClient: boolean;
  /** SYN flag set. */
  syn: boolean;
  /** TCP sequence number (unsigned 32-bit). */
  seq: number;
  /** Data bytes the segment carries on the wire (not the captured part only). */
  dataLength: number;
}

/** The key of a turn: client port, connection ordinal on that port (from 0), request index (from 0). */
export function turnKey(clientPort: number, connection: number, request: number): string {
  return `${clientPort}#${connection}#${request}`;
}

interface Conn {
  /** Ordinal of the connection on its port; the first seen is 0. */
  ordinal: number;
  /** The client's ISN of the current connection, -1 when it was joined without a SYN. */
  isn: number;
  /** Index of the request being sent or answered, -1 before the first. */
  request: number;
  /** True once the server sent data for the current request (the next client data starts a new one). */
  answered: boolean;
  /** Time of the last new response segment of the current request, -1 if none. */
  lastResponseUs: number;
  /** Highest sequence end seen per direction (to skip retransmissions), -1 when none. */
  clientEnd: number;
  serverEnd: number;
}

/** True when a segment ending at `end` advances past `highest` (mod 2^32); -1 means nothing seen yet. */
function advances(end: number, highest: number): boolean {
  return highest < 0 || ((end - highest) | 0) > 0;
}

/**
 * Turns a time-ordered stream of segments of one server into turn gaps. Requests are client data
 * after server data (no pipelining, as with ab and wrk); retransmitted segments (ending at or before
 * the highest sequence seen in their direction) are ignored; a client SYN with a new ISN starts a new
 * connection on its port.
 */
export class TurnTracker {
  private readonly conns = new Map<number, Conn>();
  /** turnKey → gap in µs. */
  readonly gaps = new Map<string, number>();

  push(e: SegmentEvent): void {
    let c = this.conns.get(e.clientPort);
    if (e.syn && e.fromClient) {
      if (c === undefined || c.isn !== e.seq) {
        const ordinal = c === undefined ? 0 : c.ordinal + 1;
        c = {
          ordinal,
          isn: e.seq,
          request: -1,
          answered: false,
          lastResponseUs: -1,
          clientEnd: (e.seq + 1) >>> 0,
          serverEnd: -1,
        };
        this.conns.set(e.clientPort, c);
      }
      return;
    }
    if (c === undefined) {
      c = { ordinal: 0, isn: -1, request: -1, answered: false, lastResponseUs: -1, clientEnd: -1, serverEnd: -1 };
      this.conns.set(e.clientPort, c);
    }
    if (e.syn) {
      c.serverEnd = (e.seq + 1) >>> 0;
      return;
    }
    if (e.dataLength <= 0) return;
    const end = (e.seq + e.dataLength) >>> 0;
    if (e.fromClient) {
      if (!advances(end, c.clientEnd)) return;
      c.clientEnd = end;
      if (c.request < 0 || c.answered) {
        if (c.request >= 0 && c.lastResponseUs >= 0)
          this.gaps.set(turnKey(e.clientPort, c.ordinal, c.request), e.tsUs - c.lastResponseUs);
        c.request++;
        c.answered = false;
        c.lastResponseUs = -1;
      }
    } else {
      if (!advances(end, c.serverEnd)) return;
      c.serverEnd = end;
      if (c.request < 0) return; // a response to a request before the capture began
      c.answered = true;
      c.lastResponseUs = e.tsUs;
    }
  }
}

/** The turn gaps of a segment stream (see TurnTracker). */
export function turnGaps(events: Iterable<SegmentEvent>): Map<string, number> {
  const t = new TurnTracker();
  for (const e of events) t.push(e);
  return t.gaps;
}

/** relay = target gap − online gap for every turn present in both, in the online map's order. */
export function relayLatencies(online: ReadonlyMap<string, number>, target: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  for (const [k, g] of online) {
    const t = target.get(k);
    if (t !== undefined) out.push(t - g);
  }
  return out;
}

/** The nearest-rank p-th percentile (0 < p ≤ 100) of xs; NaN for an empty list. Does not modify xs. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? NaN;
}

export interface RelaySummary {
  /** Turns seen on both servers. */
  pairs: number;
  /** Turns seen on each server. */
  onlineTurns: number;
  targetTurns: number;
  /** NaN when there are no pairs. */
  p50Us: number;
  p99Us: number;
}

export function summarizeRelay(online: ReadonlyMap<string, number>, target: ReadonlyMap<string, number>): RelaySummary {
  const r = relayLatencies(online, target);
  return {
    pairs: r.length,
    onlineTurns: online.size,
    targetTurns: target.size,
    p50Us: percentile(r, 50),
    p99Us: percentile(r, 99),
  };
}
