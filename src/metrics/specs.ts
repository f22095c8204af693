// What --metrics exports: one Prometheus metric per statistics counter, named after the counter
// (camelCase to snake_case, the tool's prefix, counters with `_total`), read from the same snapshot
// the statistics lines print, so a scrape and the log agree. Times are exported in seconds (the
// lines print ms). Pure: snapshots in, numbers out.

import type { InterceptCounters, TcpcopyCounters } from '../stats/index.js';
import { MYSQL_FIGURE_NAMES } from '../mysql-replay/index.js';
import type { MysqlFigures } from '../mysql-replay/index.js';

export type MetricKind = 'counter' | 'gauge';

/** One exported metric: its name and help, and how to read it from a snapshot `S`. */
export interface MetricSpec<S> {
  readonly name: string;
  readonly help: string;
  readonly kind: MetricKind;
  /** One sample, or (with `label`) one sample per value of the label. */
  readonly read: (s: S) => number | Readonly<Record<string, number>>;
  /** The label the samples of a record are told apart by. */
  readonly label?: string;
}

/** What tcpcopy's metrics are read from: its counters and, with --mysql, the MySQL mode's figures. */
export interface TcpcopySnapshot {
  readonly counters: TcpcopyCounters;
  readonly mysql: MysqlFigures | null;
  /** Live sessions by TCP state (every state, 0 included). */
  readonly sessionsByState: Readonly<Record<string, number>>;
  /** Send error occurrences by code (errno name), those that sent a packet to the retry queue included. */
  readonly sendErrors: Readonly<Record<string, number>>;
  /** Bytes queued on the channel connections to intercept (ours and the sockets'), not yet sent. */
  readonly channelQueuedBytes: number;
}

/** `sendContent` → `send_content`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** tcpcopy's counters that are levels, not counts. */
const TCPCOPY_GAUGES: ReadonlySet<keyof TcpcopyCounters> = new Set<keyof TcpcopyCounters>([
  'active',
  'queuedBytes',
  'replicationLagMs',
  'loopDelayP99Ms',
  'loopDelayMaxMs',
]);

/** ms-valued counters, exported in seconds under a name ending `_seconds`. */
const MS_SUFFIX = /Ms$/;

function fromKey<S, C>(prefix: string, key: string, gauge: boolean, read: (s: S) => C, help: string): MetricSpec<S> {
  const ms = MS_SUFFIX.test(key);
  const base = `${prefix}_${snakeCase(ms ? key.replace(MS_SUFFIX, '') : key)}${ms ? '_seconds' : ''}`;
  const value = (s: S): number => {
    const v = (read(s) as Record<string, number>)[key] ?? 0;
    return ms ? v / 1000 : v;
  };
  return { name: gauge ? base : `${base}_total`, help, kind: gauge ? 'gauge' : 'counter', read: value };
}

/** The statistics line's own name of each tcpcopy counter, for the help text. */
const TCPCOPY_HELP: Readonly<Record<keyof TcpcopyCounters, string>> = {
  active: 'live sessions (`active`)',
  released: 'sessions ended and removed (`rel`)',
  obsoleteDeleted: 'sessions ended by a timeout (`obs del`)',
  conns: 'SYN-ACKs received from the target (`conns`)',
  resp: 'target reply headers matched to a session (`resp`)',
  respContent: '... that carried payload (`c-resp`)',
  respFin: '... with FIN (`resp fin`)',
  respRst: '... with RST (`resp rst`)',
  respUnmatched: 'target reply headers that matched no session',
  send: 'segments sent to the target (`send`)',
  sendContent: '... with payload (`send content`)',
  sendSyn: 'SYNs sent (`send syn`)',
  sendFin: 'FINs sent (`fin`)',
  sendReset: 'RSTs sent (`reset`)',
  reconnectNoSyn: 'sessions joined mid-stream with a synthesized SYN (`for no syn`)',
  refusedNoSyn: 'mid-stream sessions refused (only with SYN)',
  retransmit: 'segments re-sent to the target (`retransmit`)',
  synCount: 'captured client SYNs (`syn cnt`)',
  allClient: 'captured client packets handed to the engine (`all clt`)',
  clientContent: '... with payload (`clt cont`)',
  clientRetransmit: 'client segments already seen (`total cont retransmit`)',
  captureGapSkipped: 'capture gaps given up on',
  bufferOverflow: 'client segments dropped for a full session buffer (`buffer overflow`)',
  reusedPortWaits: 'new connections on a reused client port held until the old one finished',
  queuedBytes: 'client bytes held by all sessions (`queued`)',
  shedSessions: 'sessions shed at the backlog or session bound (`shed sessions`)',
  shedBytes: 'bytes those sessions held (`shed bytes`)',
  shedForMemory: 'of those, sessions shed to keep memory under -m (`shed for memory`)',
  staleRst: 'target RSTs ignored as not of this connection (`stale target rst`)',
  handshakeRestarts: 'connections opened again after an early target RST (`handshake restarts`)',
  capturedPackets: 'packets read from the capture (`total captured packets`)',
  captureDrops: 'packets dropped before the engine: kernel and queue (`capture dropped`)',
  sendErrors: 'packets whose send to the target failed (`send errors`)',
  ignoredPackets: 'captured packets ignored (loop guard, not whole TCP segments)',
  fragments: 'captured IP fragments (`frag`)',
  loopDelayP99Ms: 'event loop delay, 99th percentile (`event loop delay`)',
  loopDelayMaxMs: 'event loop delay, maximum',
  replicationLagMs: 'age of the oldest captured request byte not yet sent (`replication lag`)',
  sampledOutSyns: '-r: client SYNs of sessions left out (`sampled out syn`)',
  sampledOutPackets: '-r: packets of sessions left out (`sampled out packs`)',
  copyPackets: '-n: packets fed as extra copies (`copy packs`)',
  copyPortsMoved: '-n: copies moved off a client port a live session held (`copy ports: moved`)',
  copyPortsExhausted: '-n: copies that found no free client port (`none free`)',
};

const INTERCEPT_HELP: Readonly<Record<keyof InterceptCounters, string>> = {
  responsePackets: 'captured target replies (`total resp packs`)',
  capturedPackets: 'captured packets (`all`)',
  routedResponses: 'replies routed to a tcpcopy (`route`)',
  socketWrites: 'socket writes to tcpcopy connections (`sock write cnt`)',
  routeHits: 'replies of a registered session (`cache hit`)',
  routeMisses: 'replies of no registered session (`missed`)',
  lostResponses: 'replies whose tcpcopy connection was gone (`lost`)',
  registeredSessions: 'sessions registered now (`sessions`)',
  registrations: 'registrations received (`registered`)',
  expiredRegistrations: 'registrations expired (`expired`)',
  connectedPeers: 'tcpcopy connections now (`peers`)',
  refusedPeers: 'connections refused: secret or version (`refused peers`)',
  captureDrops: 'packets the kernel dropped before capture (`capture dropped`)',
  misroutedRegistrations: 'registrations taken over from another tcpcopy connection (`misrouted`)',
  foreignUnregistrations: 'UNREGISTERs from a connection not owning the session (`foreign unregistrations`)',
  mergedReplies: 'replies folded into their previous one (`merged replies`)',
  queuedBytes: 'bytes queued on the tcpcopy connections (outboxes and socket buffers), not yet written',
};

const INTERCEPT_GAUGES: ReadonlySet<keyof InterceptCounters> = new Set<keyof InterceptCounters>([
  'registeredSessions',
  'connectedPeers',
  'queuedBytes',
]);

/**
 * Payload segments sent to the target per captured client payload segment (`send content` /
 * `clt cont`): 1 when every request segment went on once, N with -n N, 0 before any.
 */
export function replicationRatio(c: Pick<TcpcopyCounters, 'sendContent' | 'clientContent'>): number {
  return c.clientContent === 0 ? 0 : c.sendContent / c.clientContent;
}

/** tcpcopy's metrics; the MySQL mode's `tcpcopy_mysql_*` ones with `mysql`. */
export function tcpcopyMetricSpecs(mysql: boolean): Array<MetricSpec<TcpcopySnapshot>> {
  const specs = (Object.keys(TCPCOPY_HELP) as Array<keyof TcpcopyCounters>).map((k) =>
    fromKey<TcpcopySnapshot, TcpcopyCounters>('tcpcopy', k, TCPCOPY_GAUGES.has(k), (s) => s.counters, TCPCOPY_HELP[k]),
  );
  specs.push({
    name: 'tcpcopy_sessions',
    help: 'live sessions by TCP state of the emulated client',
    kind: 'gauge',
    label: 'state',
    read: (s) => s.sessionsByState,
  });
  specs.push({
    name: 'tcpcopy_send_error_events_total',
    help: 'raw send errors by code, EAGAIN/ENOBUFS that queued a packet for retry included (`send errors` counts packets lost)',
    kind: 'counter',
    label: 'code',
    read: (s) => s.sendErrors,
  });
  specs.push({
    name: 'tcpcopy_channel_queued_bytes',
    help: 'bytes queued on the channel connections to intercept (registrations), not yet written',
    kind: 'gauge',
    read: (s) => s.channelQueuedBytes,
  });
  specs.push({
    name: 'tcpcopy_replication_ratio',
    help: 'payload segments sent to the target per captured client payload segment (send content / clt cont)',
    kind: 'gauge',
    read: (s) => replicationRatio(s.counters),
  });
  if (mysql) {
    for (const k of Object.keys(MYSQL_FIGURE_NAMES) as Array<keyof MysqlFigures>) {
      specs.push(
        fromKey<TcpcopySnapshot, MysqlFigures>(
          'tcpcopy_mysql',
          k,
          false,
          (s) => s.mysql ?? MYSQL_ZERO,
          `the \`mysql:\` line's ${MYSQL_FIGURE_NAMES[k]}`,
        ),
      );
    }
  }
  return specs;
}

/** intercept's metrics. */
export function interceptMetricSpecs(): Array<MetricSpec<InterceptCounters>> {
  return (Object.keys(INTERCEPT_HELP) as Array<keyof InterceptCounters>).map((k) =>
    fromKey<InterceptCounters, InterceptCounters>('intercept', k, INTERCEPT_GAUGES.has(k), (s) => s, INTERCEPT_HELP[k]),
  );
}

const MYSQL_ZERO = Object.fromEntries(Object.keys(MYSQL_FIGURE_NAMES).map((k) => [k, 0])) as unknown as MysqlFigures;
