// intercept's counters: what it captured, routed and wrote back to tcpcopy. The comments give the
// C tool's counter each one corresponds to; the exact 4-tuple routing table replaces its hash
// table, so `cache hit/missed` count found and unknown sessions.

export interface InterceptCounters {
  /** Captured packets that are responses of the target (`total resp packs`). */
  responsePackets: number;
  /** All captured packets (`all`). */
  capturedPackets: number;
  /** Responses routed to a tcpcopy (`route`). */
  routedResponses: number;
  /** Socket writes to tcpcopy connections (`sock write cnt`). */
  socketWrites: number;
  /** Responses whose session was registered (`cache hit`). */
  routeHits: number;
  /** Responses whose session no tcpcopy registered (`missed`). */
  routeMisses: number;
  /** Responses that could not be delivered: the tcpcopy connection was gone (`lost`). */
  lostResponses: number;
  /** Sessions registered now (gauge). */
  registeredSessions: number;
  /** Session registrations received in all. */
  registrations: number;
  /** Registrations removed because they expired. */
  expiredRegistrations: number;
  /** tcpcopy connections now (gauge). */
  connectedPeers: number;
  /** Connections refused: wrong secret or protocol version. */
  refusedPeers: number;
  /** Packets the kernel dropped before capture. */
  captureDrops: number;
  /** Registrations that took a session over from another tcpcopy connection (ours, not the C tool's). */
  misroutedRegistrations: number;
  /** UNREGISTERs from a connection that does not own the session, ignored (ours). */
  foreignUnregistrations: number;
  /** Replies folded into the previous reply of their session before routing, so not routed on their own (ours). */
  mergedReplies: number;
  /** Bytes queued on the tcpcopy connections, not yet written (gauge; ours). */
  queuedBytes: number;
}

/** A counters object with every counter at zero. */
export function createInterceptCounters(): InterceptCounters {
  return {
    responsePackets: 0,
    capturedPackets: 0,
    routedResponses: 0,
    socketWrites: 0,
    routeHits: 0,
    routeMisses: 0,
    lostResponses: 0,
    registeredSessions: 0,
    registrations: 0,
    expiredRegistrations: 0,
    connectedPeers: 0,
    refusedPeers: 0,
    captureDrops: 0,
    misroutedRegistrations: 0,
    foreignUnregistrations: 0,
    mergedReplies: 0,
    queuedBytes: 0,
  };
}
