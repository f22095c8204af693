// The engine's counters, named after the C tool's statistics line (tcpcopy-internals.md §3.14).
// tcpcopy's statistics lines (src/stats) print them under these names, beside the edge's own.

export interface SessionCounters {
  /** Live sessions (gauge). */
  active: number;
  /** Sessions ended and removed, for any reason ("rel"). */
  released: number;
  /** Sessions ended by a timeout ("obs del"). */
  obsoleteDeleted: number;
  /** SYN-ACKs received from the target ("conns"). */
  conns: number;
  /** Target response headers matched to a session ("resp"). */
  resp: number;
  /** ... of which carried payload ("c-resp"). */
  respContent: number;
  /** ... with FIN ("resp fin") and with RST ("resp rst"). */
  respFin: number;
  respRst: number;
  /** Target response headers that matched no session. */
  respUnmatched: number;
  /** Every segment sent to the target ("send"). */
  send: number;
  /** ... with payload ("send content"). */
  sendContent: number;
  /** ... SYNs, synthesized ones included ("send syn"), FINs ("fin") and RSTs ("reset"). */
  sendSyn: number;
  sendFin: number;
  sendReset: number;
  /** Sessions joined mid-stream with a synthesized SYN ("for no syn"). */
  reconnectNoSyn: number;
  /** Mid-stream sessions refused because `onlyWithSyn` is set. */
  refusedNoSyn: number;
  /** Segments re-sent to the target (timeout, duplicate ACKs, zero-window probes excluded; "retransmit"). */
  retransmit: number;
  /** Captured client SYNs ("syn cnt"). */
  synCount: number;
  /** Captured client packets handed to the engine ("all clt"). */
  allClient: number;
  /** ... with payload ("clt cont"). */
  clientContent: number;
  /** Client segments wholly or partly already seen (retransmission or overlap; "total cont retransmit"). */
  clientRetransmit: number;
  /** Capture gaps given up on after `captureGapWaitMs` (bytes never seen, skipped). */
  captureGapSkipped: number;
  /** Client segments dropped because the session buffer was full ("buffer overflow"). */
  bufferOverflow: number;
  /** New connections on a reused client port held until the old session finished its replay. */
  reusedPortWaits: number;
  /** Client bytes held by all sessions now (gauge): the backlog `maxQueuedBytes` bounds. */
  queuedBytes: number;
  /** Sessions shed at the backlog or session bound, and the bytes they held. */
  shedSessions: number;
  shedBytes: number;
  /** Of shedSessions: those shed at the session bound or at a backlog bound that -m lowered. */
  shedForMemory: number;
  /**
   * Target RSTs ignored because they do not belong to this connection (RFC 793 §3.4 / RFC 5961 §3.2):
   * without an ACK of our SYN while the handshake is open, or with a sequence number outside the
   * receive window, e.g. the second RST of a previous connection on the same 4-tuple.
   */
  staleRst: number;
  /**
   * Connections opened again with the same SYN after the target reset them before it acknowledged
   * any client byte (it had dropped the half-open connection our late handshake ACK was meant for).
   */
  handshakeRestarts: number;
}

export function newCounters(): SessionCounters {
  return {
    active: 0,
    released: 0,
    obsoleteDeleted: 0,
    conns: 0,
    resp: 0,
    respContent: 0,
    respFin: 0,
    respRst: 0,
    respUnmatched: 0,
    send: 0,
    sendContent: 0,
    sendSyn: 0,
    sendFin: 0,
    sendReset: 0,
    reconnectNoSyn: 0,
    refusedNoSyn: 0,
    retransmit: 0,
    synCount: 0,
    allClient: 0,
    clientContent: 0,
    clientRetransmit: 0,
    captureGapSkipped: 0,
    bufferOverflow: 0,
    reusedPortWaits: 0,
    queuedBytes: 0,
    shedSessions: 0,
    shedBytes: 0,
    shedForMemory: 0,
    staleRst: 0,
    handshakeRestarts: 0,
  };
}
