// tcpcopy's statistics output: the periodic lines in the C tool's shapes (tc_output_stat), its two
// diagnoses, and the final summary. Pure formatting: counters and elapsed time in, lines out. The C
// tool's `tw`, `reconnect` and `recv packs after retransmission` are left out: nothing here counts
// them (sessions end without TIME-WAIT, the one reopening is printed as `handshake restarts`, replies
// are not matched to retransmissions), and a counter that always printed 0 read as a measurement.

import type { LogLine } from '../log/log-line.js';
import type { EdgeCounters, TcpcopyCounters } from './tcpcopy-counters.js';

/** The C tool waits this long after start before diagnosing. */
export const DIAGNOSIS_DELAY_MS = 3000;

function counterLines(c: TcpcopyCounters): LogLine[] {
  const n = (text: string): LogLine => ({ level: 'notice', text });
  return [
    n(`active:${c.active},rel:${c.released},obs del:${c.obsoleteDeleted}`),
    n(`conns:${c.conns},resp:${c.resp},c-resp:${c.respContent}`),
    n(`resp fin:${c.respFin},resp rst:${c.respRst}`),
    n(`send:${c.send},send content:${c.sendContent}`),
    n(`send syn:${c.sendSyn}, fin:${c.sendFin},reset:${c.sendReset}`),
    n(`for no syn:${c.reconnectNoSyn}`),
    n(`retransmit:${c.retransmit}`),
    n(`syn cnt:${c.synCount},all clt:${c.allClient},clt cont:${c.clientContent}`),
    n(`total cont retransmit:${c.clientRetransmit}, frag:${c.fragments}`),
    n(`total captured packets:${c.capturedPackets}`),
    n(`capture dropped:${c.captureDrops},send errors:${c.sendErrors},buffer overflow:${c.bufferOverflow}`),
    n(
      `replication lag:${Math.round(c.replicationLagMs)} ms,queued:${c.queuedBytes} bytes,shed sessions:${c.shedSessions},shed bytes:${c.shedBytes},shed for memory:${c.shedForMemory}`,
    ),
    n(`stale target rst:${c.staleRst},handshake restarts:${c.handshakeRestarts}`),
  ];
}

/**
 * The periodic statistics. After DIAGNOSIS_DELAY_MS it adds the C tool's warnings: "many
 * connections can't be established" when established connections are under 80 % of the live
 * sessions (integer percent, as in C), and "no responses after N seconds" when requests were sent
 * but no response carried payload.
 */
export function formatTcpcopyStats(c: TcpcopyCounters, elapsedMs: number): LogLine[] {
  const lines = counterLines(c);
  if (elapsedMs > DIAGNOSIS_DELAY_MS) {
    if (c.sendContent > 0 && c.respContent === 0) {
      lines.push({ level: 'warn', text: `no responses after ${Math.floor(elapsedMs / 1000)} seconds` });
    }
    if (c.active > 0 && Math.floor((100 * c.conns) / c.active) < 80) {
      lines.push({ level: 'warn', text: "many connections can't be established" });
    }
  }
  return lines;
}

function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : 0;
}

/** The summary printed once at exit (SIGINT/SIGTERM or end of input). */
export function formatTcpcopySummary(c: TcpcopyCounters, elapsedMs: number): LogLine[] {
  return [
    { level: 'notice', text: `tcpcopy summary after ${(elapsedMs / 1000).toFixed(1)} s:` },
    ...counterLines(c),
    {
      level: 'notice',
      text: `event loop delay: p99 ${c.loopDelayP99Ms.toFixed(1)} ms, max ${c.loopDelayMaxMs.toFixed(1)} ms`,
    },
    {
      level: 'notice',
      text: `rates: captured ${perSecond(c.capturedPackets, elapsedMs)} pkt/s, sent ${perSecond(c.send, elapsedMs)} pkt/s, sent content ${perSecond(c.sendContent, elapsedMs)} pkt/s`,
    },
  ];
}

/** What -r and -n did (not in the C tool). */
export type RewriteFigures = Readonly<Pick<EdgeCounters, 'sampledOutSyns' | 'sampledOutPackets' | 'copyPackets'>>;

/** Our own extra line for -r/-n/-c, printed after the C tool's lines when one of them is in use. */
export function formatRewriteLine(r: RewriteFigures): LogLine {
  return {
    level: 'notice',
    text: `sampled out syn:${r.sampledOutSyns},sampled out packs:${r.sampledOutPackets},copy packs:${r.copyPackets}`,
  };
}

/** -n > 1 (not in the C tool): copies moved off a port a live session held, and those that found none free. */
export function formatCopyPortsLine(r: Readonly<Pick<EdgeCounters, 'copyPortsMoved' | 'copyPortsExhausted'>>): LogLine {
  return {
    level: r.copyPortsExhausted > 0 ? 'warn' : 'notice',
    text: `copy ports: moved ${r.copyPortsMoved}, none free ${r.copyPortsExhausted}`,
  };
}

/**
 * Why sessions ended, e.g. `closed: finished 19973, handshake timeout 3` (only the reasons that
 * occurred, in the order given; not in the C tool).
 */
export function formatCloseReasons(reasons: ReadonlyMap<string, number>): LogLine {
  const parts = [...reasons]
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)} ${n}`);
  return { level: 'notice', text: `closed: ${parts.length > 0 ? parts.join(', ') : 'none'}` };
}
