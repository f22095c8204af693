// Intercept's routing table: exact session key → the connection that registered it. Replies that
// arrive before their registration and open or reset a session (SYN-ACK, RST) are parked for a
// bounded time and handed over when the registration arrives. Pure: time is an input (ms).

import { TcpFlags } from '../packet/index.js';
import { ChannelError } from './errors.js';
import { responseSessionKeyString, responseTcpFlags, sessionKeyString } from './messages.js';
import type { ResponseMessage, SessionKey } from './messages.js';

export interface RoutingLimits {
  /** How long a parked reply waits for its registration. Default 3000 ms. */
  parkTtlMs: number;
  /** Parked replies across all sessions; beyond it new ones are dropped and counted. Default 4096. */
  maxParkedTotal: number;
  /** Parked replies per session. Default 4. */
  maxParkedPerSession: number;
}

export const DEFAULT_ROUTING_LIMITS: Readonly<RoutingLimits> = {
  parkTtlMs: 3000,
  maxParkedTotal: 4096,
  maxParkedPerSession: 4,
};

export interface RoutingCounters {
  /** Replies handed to a registered connection. */
  routed: number;
  /** Replies with no registration that could not be parked (not SYN-ACK/RST): dropped. */
  unroutable: number;
  /** Replies parked. */
  parked: number;
  /** Parked replies delivered when their registration arrived. */
  parkedDelivered: number;
  /** Parked replies whose TTL ran out. */
  parkedExpired: number;
  /** Replies not parked because a park bound was reached. */
  parkedDropped: number;
  /** Registrations that took a session over from another connection (a reply may have gone to the old one). */
  misrouted: number;
  registrations: number;
  unregistrations: number;
  /** UNREGISTER from a connection that does not own the session (ignored). */
  foreignUnregistrations: number;
}

/** Where a reply goes; `payloadBytes`: how much of its payload the session asked for (0: none). */
export type RouteResult<C> =
  { kind: 'routed'; connection: C; payloadBytes: number } | { kind: 'parked' } | { kind: 'unroutable' };

interface ParkedSession {
  deadlineMs: number;
  replies: ResponseMessage[];
}

export class RoutingTable<C> {
  readonly limits: Readonly<RoutingLimits>;
  readonly counters: RoutingCounters = {
    routed: 0,
    unroutable: 0,
    parked: 0,
    parkedDelivered: 0,
    parkedExpired: 0,
    parkedDropped: 0,
    misrouted: 0,
    registrations: 0,
    unregistrations: 0,
    foreignUnregistrations: 0,
  };
  private readonly routes = new Map<string, C>();
  private readonly byConnection = new Map<C, Set<string>>();
  /** Sessions that asked for their replies' payload (PAYLOAD_WANT): bytes per reply. */
  private readonly payloadWanted = new Map<string, number>();
  /** Insertion order = deadline order (one TTL for all), so expiry scans from the front. */
  private readonly parkedSessions = new Map<string, ParkedSession>();
  private parkedCount = 0;

  constructor(limits: Partial<RoutingLimits> = {}) {
    const l = { ...DEFAULT_ROUTING_LIMITS, ...limits };
    for (const [k, v] of Object.entries(l)) {
      if (!Number.isFinite(v) || v < 0) throw new ChannelError('BAD_FIELD', `routing limit ${k} = ${v}`);
    }
    this.limits = l;
  }

  get size(): number {
    return this.routes.size;
  }

  get parkedReplies(): number {
    return this.parkedCount;
  }

  /** The connection a session is registered to, if any. */
  lookup(session: SessionKey): C | undefined {
    return this.routes.get(sessionKeyString(session));
  }

  /** Whether any session wants reply payloads now (the capture edge copies payload only then). */
  get wantsPayloads(): boolean {
    return this.payloadWanted.size > 0;
  }

  /**
   * The session asks for the first `maxBytes` of each reply's payload (0: no more). Only the
   * connection the session is registered to may ask; returns whether the request was taken.
   */
  wantPayload(session: SessionKey, connection: C, maxBytes: number): boolean {
    const key = sessionKeyString(session);
    if (this.routes.get(key) !== connection) return false;
    if (maxBytes > 0) this.payloadWanted.set(key, maxBytes);
    else this.payloadWanted.delete(key);
    return true;
  }

  /** Sessions currently registered by `connection`. */
  sessionsOf(connection: C): number {
    return this.byConnection.get(connection)?.size ?? 0;
  }

  /**
   * Registers `session` to `connection` and returns the parked replies of that session (oldest first),
   * which the caller now delivers to `connection`.
   */
  register(session: SessionKey, connection: C, nowMs: number): ResponseMessage[] {
    this.expire(nowMs);
    const key = sessionKeyString(session);
    const old = this.routes.get(key);
    if (old !== undefined && old !== connection) {
      this.counters.misrouted++;
      this.byConnection.get(old)?.delete(key);
    }
    // A registration (a new connection on the 4-tuple, or a takeover) starts without payload.
    this.payloadWanted.delete(key);
    this.routes.set(key, connection);
    let set = this.byConnection.get(connection);
    if (!set) {
      set = new Set();
      this.byConnection.set(connection, set);
    }
    set.add(key);
    this.counters.registrations++;
    const p = this.parkedSessions.get(key);
    if (!p) return [];
    this.parkedSessions.delete(key);
    this.parkedCount -= p.replies.length;
    this.counters.parkedDelivered += p.replies.length;
    this.counters.routed += p.replies.length;
    return p.replies;
  }

  /** Removes a registration if `connection` owns it; returns whether it did. */
  unregister(session: SessionKey, connection: C): boolean {
    const key = sessionKeyString(session);
    if (this.routes.get(key) !== connection) {
      this.counters.foreignUnregistrations++;
      return false;
    }
    this.routes.delete(key);
    this.payloadWanted.delete(key);
    this.byConnection.get(connection)?.delete(key);
    this.counters.unregistrations++;
    return true;
  }

  /** Drops every registration of a closed connection; returns how many. */
  removeConnection(connection: C): number {
    const set = this.byConnection.get(connection);
    if (!set) return 0;
    for (const key of set) {
      this.routes.delete(key);
      this.payloadWanted.delete(key);
    }
    this.byConnection.delete(connection);
    return set.size;
  }

  /** Where a captured reply goes. */
  route(reply: ResponseMessage, nowMs: number): RouteResult<C> {
    const key = responseSessionKeyString(reply);
    const c = this.routes.get(key);
    if (c !== undefined) {
      this.counters.routed++;
      const payloadBytes = this.payloadWanted.size === 0 ? 0 : (this.payloadWanted.get(key) ?? 0);
      return { kind: 'routed', connection: c, payloadBytes };
    }
    this.expire(nowMs);
    const flags = responseTcpFlags(reply);
    const synAck = (flags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK);
    if (!synAck && (flags & TcpFlags.RST) === 0) {
      this.counters.unroutable++;
      return { kind: 'unroutable' };
    }
    let p = this.parkedSessions.get(key);
    if (
      this.parkedCount >= this.limits.maxParkedTotal ||
      (p !== undefined && p.replies.length >= this.limits.maxParkedPerSession)
    ) {
      this.counters.parkedDropped++;
      return { kind: 'unroutable' };
    }
    if (!p) {
      p = { deadlineMs: nowMs + this.limits.parkTtlMs, replies: [] };
      this.parkedSessions.set(key, p);
    }
    p.replies.push(reply);
    this.parkedCount++;
    this.counters.parked++;
    return { kind: 'parked' };
  }

  /** Drops parked replies whose TTL ran out by `nowMs`; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [key, p] of this.parkedSessions) {
      if (p.deadlineMs > nowMs) break;
      this.parkedSessions.delete(key);
      n += p.replies.length;
    }
    this.parkedCount -= n;
    this.counters.parkedExpired += n;
    return n;
  }
}
