// intercept's statistics output: the periodic lines in the C tool's shapes (its first two lines
// keep the C wording; the routing-table line replaces the hash-table one; the last line is ours:
// registrations taken over between tcpcopy connections and ignored foreign unregistrations, the
// evidence that several tcpcopy instances do not steal each other's replies, and the replies folded
// into their session's previous one) and the final summary.
// Pure formatting.

import type { InterceptCounters } from './intercept-counters.js';
import type { LogLine } from '../log/log-line.js';

function counterLines(c: InterceptCounters): LogLine[] {
  const n = (text: string): LogLine => ({ level: 'notice', text });
  return [
    n(
      `total resp packs:${c.responsePackets}, all:${c.capturedPackets}, route:${c.routedResponses}, sock write cnt:${c.socketWrites}`,
    ),
    n(`cache hit:${c.routeHits},missed:${c.routeMisses},lost:${c.lostResponses}`),
    n(`sessions:${c.registeredSessions},registered:${c.registrations},expired:${c.expiredRegistrations}`),
    n(`peers:${c.connectedPeers},refused peers:${c.refusedPeers},capture dropped:${c.captureDrops}`),
    n(
      `misrouted:${c.misroutedRegistrations},foreign unregistrations:${c.foreignUnregistrations},merged replies:${c.mergedReplies}`,
    ),
  ];
}

/** The periodic statistics; warns when no tcpcopy is connected while responses are captured. */
export function formatInterceptStats(c: InterceptCounters): LogLine[] {
  const lines = counterLines(c);
  if (c.connectedPeers === 0 && c.responsePackets > 0) {
    lines.push({ level: 'warn', text: 'responses captured but no tcpcopy is connected' });
  }
  return lines;
}

/** The summary printed once at exit. */
export function formatInterceptSummary(c: InterceptCounters, elapsedMs: number): LogLine[] {
  return [{ level: 'notice', text: `intercept summary after ${(elapsedMs / 1000).toFixed(1)} s:` }, ...counterLines(c)];
}
