// tcpcopy's counters: one plain object of numbers the replication code increments, named after
// what they count; the comments give the C tool's counter each one corresponds to (tc_stat).

export interface TcpcopyCounters {
  /** Live sessions (gauge; `active`). */
  activeSessions: number;
  /** Sessions ended and freed (`rel`). */
  releasedSessions: number;
  /** Sessions removed by -t/-k timeouts (`obs del`). */
  obsoleteSessions: number;
  /** Sessions that ended in TIME-WAIT (`tw`). */
  timeWaitSessions: number;
  /** Target SYN-ACKs received: connections established with the target (`conns`). */
  establishedConnections: number;
  /** Response headers received from intercept (`resp`). */
  responsePackets: number;
  /** ... of them with payload (`c-resp`). */
  responseContentPackets: number;
  /** Responses carrying FIN (`resp fin`). */
  responseFinPackets: number;
  /** Responses carrying RST (`resp rst`). */
  responseRstPackets: number;
  /** Packets sent to the target (`send`). */
  sentPackets: number;
  /** ... of them with payload (`send content`). */
  sentContentPackets: number;
  /** SYNs sent, synthesized ones included (`send syn`). */
  sentSynPackets: number;
  /** FINs sent (`fin`). */
  sentFinPackets: number;
  /** RSTs sent (`reset`). */
  sentRstPackets: number;
  /** Sessions re-opened because the target closed them (`reconnect`). */
  reconnectsForClosed: number;
  /** Sessions joined mid-stream with a synthesized SYN (`for no syn`). */
  reconnectsForNoSyn: number;
  /** Retransmissions to the target (`retransmit`). */
  retransmits: number;
  /** Responses received after a retransmission (`recv packs after retransmission`). */
  responsesAfterRetransmit: number;
  /** Client SYNs captured (`syn cnt`). */
  clientSynPackets: number;
  /** Client packets accepted (`all clt`). */
  clientPackets: number;
  /** ... of them with payload (`clt cont`). */
  clientContentPackets: number;
  /** Client payload retransmissions seen in the capture (`total cont retransmit`). */
  clientContentRetransmits: number;
  /** Captured IP fragments / non-DF packets (`frag`). */
  fragments: number;
  /** All packets read from the capture (`total captured packets`). */
  capturedPackets: number;
  /** Packets the kernel dropped before capture (not in the C tool). */
  captureDrops: number;
  /** Packets whose send to the target failed (not in the C tool: it only logged). */
  sendErrors: number;
  /** Client packets dropped because a session's buffer was full (not in the C tool). */
  bufferOverflows: number;
  /** How late the main event loop ran, 99th percentile and maximum, ms (not in the C tool). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Age of the oldest captured request byte not yet sent to the target, ms (not in the C tool). */
  replicationLagMs: number;
  /** Captured client bytes held by the sessions, not yet replayed or acknowledged (not in the C tool). */
  queuedBytes: number;
  /** Sessions reset because the backlog reached its bound (--max-backlog), and their bytes. */
  shedSessions: number;
  shedBytes: number;
  /** Target RSTs that belonged to no live connection (ignored), and handshakes opened again after the target reset one it had dropped. */
  staleResets: number;
  handshakeRestarts: number;
}

/** A counters object with every counter at zero. */
export function createTcpcopyCounters(): TcpcopyCounters {
  return {
    activeSessions: 0,
    releasedSessions: 0,
    obsoleteSessions: 0,
    timeWaitSessions: 0,
    establishedConnections: 0,
    responsePackets: 0,
    responseContentPackets: 0,
    responseFinPackets: 0,
    responseRstPackets: 0,
    sentPackets: 0,
    sentContentPackets: 0,
    sentSynPackets: 0,
    sentFinPackets: 0,
    sentRstPackets: 0,
    reconnectsForClosed: 0,
    reconnectsForNoSyn: 0,
    retransmits: 0,
    responsesAfterRetransmit: 0,
    clientSynPackets: 0,
    clientPackets: 0,
    clientContentPackets: 0,
    clientContentRetransmits: 0,
    fragments: 0,
    capturedPackets: 0,
    captureDrops: 0,
    sendErrors: 0,
    bufferOverflows: 0,
    loopDelayP99Ms: 0,
    loopDelayMaxMs: 0,
    replicationLagMs: 0,
    queuedBytes: 0,
    shedSessions: 0,
    shedBytes: 0,
    staleResets: 0,
    handshakeRestarts: 0,
  };
}
