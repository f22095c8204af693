// tcpcopy's counters in the order its summary lines print them, for the tests that set each to a
// distinct value and read the lines back.
import type { TcpcopyCounters } from '../../src/stats/index.js';

/** The counters of the summary lines, in print order (the periodic lines add the last seven). */
export const SUMMARY_COUNTERS: readonly (keyof TcpcopyCounters)[] = [
  'active',
  'released',
  'obsoleteDeleted',
  'conns',
  'resp',
  'respContent',
  'respFin',
  'respRst',
  'send',
  'sendContent',
  'sendSyn',
  'sendFin',
  'sendReset',
  'reconnectNoSyn',
  'retransmit',
  'synCount',
  'allClient',
  'clientContent',
  'clientRetransmit',
  'fragments',
  'capturedPackets',
  'captureDrops',
  'sendErrors',
  'bufferOverflow',
];

/** SUMMARY_COUNTERS and the seven the periodic statistics lines add. */
export const STATS_COUNTERS: readonly (keyof TcpcopyCounters)[] = [
  ...SUMMARY_COUNTERS,
  'replicationLagMs',
  'queuedBytes',
  'shedSessions',
  'shedBytes',
  'shedForMemory',
  'staleRst',
  'handshakeRestarts',
];
