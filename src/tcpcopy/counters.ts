// Fills tcpcopy's statistics counters (src/stats) from the engine's counters and the edge's own
// (captured packets, drops, send errors). Pure.

import type { SessionCounters } from '../session/index.js';
import type { TcpcopyCounters } from '../stats/index.js';

/** What only the edge knows: capture and send figures. */
export interface EdgeCounters {
  capturedPackets: number;
  captureDrops: number;
  sendErrors: number;
  /** Captured packets ignored by the loop guard or not decodable as whole TCP segments. */
  ignoredPackets: number;
  fragments: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** The engine's backlog lag (oldest unsent captured byte), ms. */
  replicationLagMs: number;
  /** -r: client SYNs and packets of sessions left out by sampling. */
  sampledOutSyns: number;
  sampledOutPackets: number;
  /** -n: packets fed to the engine as extra copies. */
  copyPackets: number;
}

export function newEdgeCounters(): EdgeCounters {
  return { capturedPackets: 0, captureDrops: 0, sendErrors: 0, ignoredPackets: 0, fragments: 0, loopDelayP99Ms: 0, loopDelayMaxMs: 0, replicationLagMs: 0,
    sampledOutSyns: 0, sampledOutPackets: 0, copyPackets: 0 };
}

/** Copies engine and edge figures into `out` (every field of TcpcopyCounters is written). */
export function fillTcpcopyCounters(out: TcpcopyCounters, s: SessionCounters, e: EdgeCounters): TcpcopyCounters {
  out.activeSessions = s.active;
  out.releasedSessions = s.released;
  out.obsoleteSessions = s.obsoleteDeleted;
  out.timeWaitSessions = 0;
  out.establishedConnections = s.conns;
  out.responsePackets = s.resp;
  out.responseContentPackets = s.respContent;
  out.responseFinPackets = s.respFin;
  out.responseRstPackets = s.respRst;
  out.sentPackets = s.send;
  out.sentContentPackets = s.sendContent;
  out.sentSynPackets = s.sendSyn;
  out.sentFinPackets = s.sendFin;
  out.sentRstPackets = s.sendReset;
  out.reconnectsForClosed = 0;
  out.reconnectsForNoSyn = s.reconnectNoSyn;
  out.retransmits = s.retransmit;
  out.responsesAfterRetransmit = 0;
  out.clientSynPackets = s.synCount;
  out.clientPackets = s.allClient;
  out.clientContentPackets = s.clientContent;
  out.clientContentRetransmits = s.clientRetransmit;
  out.fragments = e.fragments;
  out.capturedPackets = e.capturedPackets;
  out.captureDrops = e.captureDrops;
  out.sendErrors = e.sendErrors;
  out.bufferOverflows = s.bufferOverflow;
  out.loopDelayP99Ms = e.loopDelayP99Ms;
  out.loopDelayMaxMs = e.loopDelayMaxMs;
  out.replicationLagMs = e.replicationLagMs;
  out.queuedBytes = s.queuedBytes;
  out.shedSessions = s.shedSessions;
  out.shedBytes = s.shedBytes;
  out.staleResets = s.staleRst;
  out.handshakeRestarts = s.handshakeRestarts;
  return out;
}
