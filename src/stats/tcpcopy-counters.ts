// tcpcopy's counters under one set of names: the session engine's (SessionCounters, incremented on
// the hot path in src/session) and what only the live edge knows (EdgeCounters, incremented by
// src/tcpcopy/replicator.ts). The statistics lines read these same names. EdgeCounters is defined
// here rather than in src/tcpcopy because tcpcopy imports this folder's formatters: the type stays
// below both, and this folder imports only types from src/session.

import type { SessionCounters } from '../session/index.js';

/** What only the edge knows: capture, send and -r/-n figures. */
export interface EdgeCounters {
  /** All packets read from the capture (`total captured packets`). */
  capturedPackets: number;
  /** Packets the kernel dropped before capture, and live batches dropped before the engine (not in the C tool). */
  captureDrops: number;
  /** Packets whose send to the target failed (not in the C tool: it only logged). */
  sendErrors: number;
  /** Captured packets ignored by the loop guard or not decodable as whole TCP segments. */
  ignoredPackets: number;
  /** Captured IP fragments / non-DF packets (`frag`). */
  fragments: number;
  /** How late the main event loop ran, 99th percentile and maximum, ms (not in the C tool). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Age of the oldest captured request byte not yet sent to the target, ms (not in the C tool). */
  replicationLagMs: number;
  /** -r: client SYNs and packets of sessions left out by sampling. */
  sampledOutSyns: number;
  sampledOutPackets: number;
  /** -n: packets fed to the engine as extra copies (beyond the original). */
  copyPackets: number;
  /** -n: copies moved off a client port a live session held (copy-ports.ts), and those that found none free. */
  copyPortsMoved: number;
  copyPortsExhausted: number;
}

export function newEdgeCounters(): EdgeCounters {
  return {
    capturedPackets: 0,
    captureDrops: 0,
    sendErrors: 0,
    ignoredPackets: 0,
    fragments: 0,
    loopDelayP99Ms: 0,
    loopDelayMaxMs: 0,
    replicationLagMs: 0,
    sampledOutSyns: 0,
    sampledOutPackets: 0,
    copyPackets: 0,
    copyPortsMoved: 0,
    copyPortsExhausted: 0,
  };
}

/** A snapshot of tcpcopy's statistics: the engine's counters and the edge's, side by side. */
export interface TcpcopyCounters extends SessionCounters, EdgeCounters {}
