// intercept's side of the TCPCopy 1.x channel (`intercept --tcpcopy1`): serves a C tcpcopy (or our
// tcpcopy --tcpcopy1). The protocol has no authentication: any peer that can connect can register
// sessions and receive the target's reply headers, so peers can be limited to an allow-list of
// addresses and the listener to one address (-b). Sessions registered with CLIENT_ADD (the C
// tcpcopy never sends CLIENT_DEL; a DEL we do get removes the route) are routed by exact 4-tuple
// with the shared RoutingTable; every reply queued in one turn of the event loop goes out as
// combined frames of at most 16 server records in one socket write.

import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { listenOn } from '../listen.js';
import { stderrLogger } from '../logger.js';
import type { ChannelLogger } from '../logger.js';
import { DEFAULT_CHANNEL_PORT } from '../messages.js';
import type { ResponseMessage, SessionKey } from '../messages.js';
import { RoutingTable } from '../routing.js';
import type { RouteResult, RoutingLimits } from '../routing.js';
import {
  COMBINED_HEADER_LENGTH,
  SERVER_RECORD_LENGTH,
  TCPCOPY1_VERSION,
  Tcpcopy1Error,
  emitCombinedFrames,
  serverRecordFromResponse,
  sessionKeyOf,
} from './records.js';
import type { ClientRecord, ServerRecord } from './records.js';
import { ClientRecordStream } from './stream.js';

export interface Tcpcopy1ServerOptions {
  /** Bind address; default 0.0.0.0. */
  host?: string;
  /** Default 36524; 0 picks a free port. */
  port?: number;
  /** Peer addresses allowed to connect (as node reports them, e.g. '10.77.0.2'); empty or absent = any. */
  allowedPeers?: readonly string[];
  logger?: ChannelLogger;
  routing?: Partial<RoutingLimits>;
  /** Routes kept at most; the C tcpcopy never unregisters, so the oldest registration goes first. Default 1,048,576. */
  maxRoutes?: number;
  /** Bytes queued for one peer beyond which replies are dropped (and counted). Default 64 MiB. */
  maxOutboxBytes?: number;
  /** Milliseconds clock for parking TTLs; default performance.now. */
  nowMs?: () => number;
  /** Called when a peer registers a session (after routing is updated). */
  onRegister?: (session: SessionKey, peer: Tcpcopy1Peer) => void;
}

export interface Tcpcopy1PeerStats {
  recordsIn: number;
  recordsOut: number;
  bytesOut: number;
  /** socket.write calls. */
  writes: number;
  /** Replies refused because the outbox was full. */
  outboxDropped: number;
}

export interface Tcpcopy1Peer {
  readonly id: number;
  readonly remote: string;
  /** The version its first record announced (-1 until it arrived). */
  version: number;
  readonly socket: Socket;
  readonly stats: Tcpcopy1PeerStats;
}

export interface Tcpcopy1ServerStats {
  accepted: number;
  /** Peers that sent their version record. */
  authenticated: number;
  /** Peers refused: not on the allow-list, or a first record that is not a version record. */
  refused: number;
  protocolErrors: number;
  /** Replies that could not be queued on their connection (closed or outbox full). */
  sendFailures: number;
  /** Replies that cannot be carried (not IPv4). */
  unencodable: number;
  /** Registrations dropped to keep at most maxRoutes. */
  evictedRoutes: number;
}

interface PeerState extends Tcpcopy1Peer {
  readonly decoder: ClientRecordStream;
  queue: ServerRecord[];
  queuedBytes: number;
  flushScheduled: boolean;
  waitingDrain: boolean;
  closed: boolean;
}

export class Tcpcopy1Server {
  readonly routing: RoutingTable<Tcpcopy1Peer>;
  readonly stats: Tcpcopy1ServerStats = {
    accepted: 0,
    authenticated: 0,
    refused: 0,
    protocolErrors: 0,
    sendFailures: 0,
    unencodable: 0,
    evictedRoutes: 0,
  };
  private readonly options: Tcpcopy1ServerOptions;
  private readonly logger: ChannelLogger;
  private readonly nowMs: () => number;
  private readonly allowed: ReadonlySet<string> | null;
  private readonly maxRoutes: number;
  private readonly maxOutboxBytes: number;
  private readonly peers = new Set<PeerState>();
  /** Registration order of the live routes (for the maxRoutes bound). */
  private readonly order = new Map<string, { session: SessionKey; peer: Tcpcopy1Peer }>();
  private server: Server | null = null;
  private nextId = 1;

  constructor(options: Tcpcopy1ServerOptions = {}) {
    this.options = options;
    this.logger = options.logger ?? stderrLogger;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.routing = new RoutingTable<Tcpcopy1Peer>(options.routing);
    const allow = options.allowedPeers ?? [];
    this.allowed = allow.length === 0 ? null : new Set(allow);
    this.maxRoutes = options.maxRoutes ?? 1 << 20;
    this.maxOutboxBytes = options.maxOutboxBytes ?? 64 * 1024 * 1024;
  }

  /** Starts listening; resolves with the bound address. Logs that the channel is unauthenticated. */
  async listen(): Promise<AddressInfo> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    const a = await listenOn(
      server,
      { port: this.options.port ?? DEFAULT_CHANNEL_PORT, host: this.options.host ?? '0.0.0.0', backlog: 64 },
      this.logger,
    );
    const who = this.allowed === null ? 'from any address' : `from ${[...this.allowed].join(',')} only`;
    this.logger.warn(
      `TCPCopy 1.x compatibility: the channel on ${a.address}:${a.port} is NOT authenticated; peers accepted ${who}`,
    );
    return a;
  }

  /** Peers connected that sent their version record. */
  /** The C tool's protocol has no reply payloads (--tcpcopy1 mode: the MySQL mode is not available). */
  readonly wantsPayloads = false;

  get peerCount(): number {
    let n = 0;
    for (const p of this.peers) if (p.version >= 0 && !p.closed) n++;
    return n;
  }

  /** Routes one captured reply: to its registered connection, parked, or counted unroutable. */
  sendResponse(reply: ResponseMessage): RouteResult<Tcpcopy1Peer> {
    if (reply.family !== 4) {
      this.stats.unencodable++;
      return { kind: 'unroutable' };
    }
    const r = this.routing.route(reply, this.nowMs());
    if (r.kind === 'routed') this.queue(r.connection as PeerState, reply);
    return r;
  }

  /** The C protocol has no notice message: the diagnosis is logged here; returns 0 (no peer told). */
  notify(code: number, message: string): number {
    this.logger.warn(`diagnosis ${code} (not sent: TCPCopy 1.x peers have no notice message): ${message}`);
    return 0;
  }

  /** Stops listening and closes every peer. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const p of this.peers) {
      this.flush(p);
      p.socket.destroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.stats.accepted++;
    const address = socket.remoteAddress ?? '?';
    const remote = `${address}:${socket.remotePort ?? 0}`;
    if (this.allowed !== null && !this.allowed.has(address.replace(/^::ffff:/, ''))) {
      this.stats.refused++;
      this.logger.warn(`peer ${remote} refused: not in the allowed peers`);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const p: PeerState = {
      id: this.nextId++,
      remote,
      version: -1,
      socket,
      stats: { recordsIn: 0, recordsOut: 0, bytesOut: 0, writes: 0, outboxDropped: 0 },
      decoder: new ClientRecordStream(),
      queue: [],
      queuedBytes: 0,
      flushScheduled: false,
      waitingDrain: false,
      closed: false,
    };
    this.peers.add(p);
    socket.on('data', (chunk: Buffer) => {
      if (p.closed) return;
      try {
        p.decoder.push(chunk, (r) => this.onRecord(p, r));
      } catch (e) {
        if (!(e instanceof Tcpcopy1Error)) throw e;
        this.protocolError(p, e);
      }
    });
    socket.on('end', () => {
      try {
        p.decoder.end();
      } catch (e) {
        if (e instanceof Tcpcopy1Error) this.logger.warn(`peer ${remote}: ${e.code} ${e.message}`);
      }
      socket.end();
    });
    socket.on('error', (e) => {
      if (!p.closed) this.logger.warn(`peer ${remote}: ${e.message}`);
    });
    socket.on('drain', () => {
      p.waitingDrain = false;
      if (p.queue.length > 0) this.scheduleFlush(p);
    });
    socket.on('close', () => {
      if (p.closed) return;
      p.closed = true;
      this.peers.delete(p);
      const n = this.routing.removeConnection(p);
      for (const [key, v] of this.order) if (v.peer === p) this.order.delete(key);
      if (p.version >= 0) this.logger.info(`peer ${remote} closed; ${n} sessions dropped`);
    });
  }

  private protocolError(p: PeerState, e: Tcpcopy1Error): void {
    this.stats.protocolErrors++;
    if (e.code === 'NO_VERSION') this.stats.refused++;
    this.logger.warn(`peer ${p.remote} disconnected: ${e.code} ${e.message}`);
    p.closed = true;
    p.socket.destroy();
    this.peers.delete(p);
    this.routing.removeConnection(p);
    for (const [key, v] of this.order) if (v.peer === p) this.order.delete(key);
  }

  private onRecord(p: PeerState, r: ClientRecord): void {
    p.stats.recordsIn++;
    if (r.kind === 'version') {
      p.version = r.version;
      this.stats.authenticated++;
      if (r.version !== TCPCOPY1_VERSION)
        this.logger.warn(
          `peer ${p.remote} speaks TCPCopy channel version ${r.version}, this side ${TCPCOPY1_VERSION}; going on`,
        );
      else this.logger.info(`peer ${p.remote} connected (TCPCopy channel version ${r.version}, unauthenticated)`);
      return;
    }
    const session = sessionKeyOf(r.session);
    const key = `${session.clientIp}|${session.clientPort}|${session.targetIp}|${session.targetPort}`;
    if (r.kind === 'del') {
      if (this.routing.unregister(session, p)) this.order.delete(key);
      return;
    }
    const parked = this.routing.register(session, p, this.nowMs());
    this.order.delete(key);
    this.order.set(key, { session, peer: p });
    if (this.order.size > this.maxRoutes) {
      const [oldKey, old] = this.order.entries().next().value as [string, { session: SessionKey; peer: Tcpcopy1Peer }];
      this.order.delete(oldKey);
      this.routing.unregister(old.session, old.peer);
      this.stats.evictedRoutes++;
    }
    for (const reply of parked) this.queue(p, reply);
    this.options.onRegister?.(session, p);
  }

  private queue(p: PeerState, reply: ResponseMessage): void {
    if (p.closed) {
      this.stats.sendFailures++;
      return;
    }
    if (p.queuedBytes + SERVER_RECORD_LENGTH + COMBINED_HEADER_LENGTH > this.maxOutboxBytes) {
      p.stats.outboxDropped++;
      this.stats.sendFailures++;
      return;
    }
    let rec: ServerRecord;
    try {
      rec = serverRecordFromResponse(reply);
    } catch (e) {
      if (!(e instanceof Tcpcopy1Error)) throw e;
      this.stats.unencodable++;
      return;
    }
    p.queue.push(rec);
    p.queuedBytes += SERVER_RECORD_LENGTH;
    this.scheduleFlush(p);
  }

  private scheduleFlush(p: PeerState): void {
    if (p.flushScheduled || p.waitingDrain) return;
    p.flushScheduled = true;
    setImmediate(() => this.flush(p));
  }

  /** Writes everything queued for `p` as combined frames of at most 16 records, in one write. */
  private flush(p: PeerState): void {
    p.flushScheduled = false;
    if (p.closed || p.queue.length === 0 || p.waitingDrain) return;
    const records = p.queue;
    p.queue = [];
    p.queuedBytes = 0;
    const out = emitCombinedFrames(records);
    p.stats.recordsOut += records.length;
    p.stats.writes++;
    p.stats.bytesOut += out.length;
    if (!p.socket.write(out)) p.waitingDrain = true;
  }
}
