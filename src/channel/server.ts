// Intercept's side of the channel: listens for tcpcopy connections, authenticates each with the shared
// secret (challenge/response), keeps the routing table from their registrations, and sends each captured
// reply to the connection that registered its session.

import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { newNonce, resolveSecret, verifyMac } from './auth.js';
import { ChannelConnection, DEFAULT_CONNECTION_LIMITS } from './connection.js';
import type { ConnectionLimits } from './connection.js';
import { ChannelError } from './errors.js';
import { listenOn } from './listen.js';
import { stderrLogger } from './logger.js';
import type { ChannelLogger } from './logger.js';
import {
  CHANNEL_PROTOCOL_VERSION,
  ChannelErrorWireCode,
  DEFAULT_CHANNEL_PORT,
  NoticeCode,
  PeerRole,
} from './messages.js';
import type { ChannelMessage, ResponseMessage, SessionKey } from './messages.js';
import { RoutingTable } from './routing.js';
import { formatStatsNotice } from './stats-notice.js';
import type { RouteResult, RoutingLimits } from './routing.js';

export interface ChannelServerOptions {
  /** Shared secret peers must prove (required, non-empty). */
  secret: string;
  /** Bind address; default 0.0.0.0. */
  host?: string;
  /** Default 36524; 0 picks a free port. */
  port?: number;
  logger?: ChannelLogger;
  /** Time a peer has to authenticate before it is dropped. Default 5000 ms. */
  authTimeoutMs?: number;
  routing?: Partial<RoutingLimits>;
  connection?: Partial<ConnectionLimits>;
  /** Milliseconds clock for parking TTLs; default performance.now. */
  nowMs?: () => number;
  /**
   * Most payload bytes per reply this intercept forwards to sessions that ask (PAYLOAD_WANT, announced
   * in a NOTICE FEATURES after WELCOME); 0 (default): the feature is off, and a peer that asks is refused.
   */
  replyPayloadBytes?: number;
  /**
   * This intercept's counters, sent as NOTICE STATS to peers that ask (STATS_WANT; `stats` is
   * announced in FEATURES only when given).
   */
  stats?: () => Readonly<Record<string, number>>;
  /** Called when a peer registers a session (after routing is updated). */
  onRegister?: (session: SessionKey, peer: ChannelPeer) => void;
}

export interface ChannelPeer {
  readonly id: number;
  readonly remote: string;
  instanceId: string;
  authenticated: boolean;
  readonly connection: ChannelConnection;
  /** The NOTICE STATS timer a STATS_WANT started on this connection. */
  statsTimer?: NodeJS.Timeout | undefined;
}

/** Shortest and longest interval a STATS_WANT may ask for (ms); others are clamped. */
export const STATS_INTERVAL_BOUNDS_MS = { min: 100, max: 3_600_000 } as const;

export interface ChannelServerStats {
  accepted: number;
  authenticated: number;
  refused: number;
  protocolErrors: number;
  /** Replies that could not be queued on their connection (closed or outbox full). */
  sendFailures: number;
}

export class ChannelServer {
  readonly routing: RoutingTable<ChannelPeer>;
  readonly stats: ChannelServerStats = {
    accepted: 0,
    authenticated: 0,
    refused: 0,
    protocolErrors: 0,
    sendFailures: 0,
  };
  private readonly options: ChannelServerOptions;
  private readonly secret: string;
  private readonly logger: ChannelLogger;
  private readonly limits: ConnectionLimits;
  private readonly nowMs: () => number;
  private readonly peers = new Set<ChannelPeer>();
  private server: Server | null = null;
  private nextId = 1;

  constructor(options: ChannelServerOptions) {
    // Only the secret given: the environment was the caller's to read (intercept's options do).
    this.secret = resolveSecret(options.secret, {});
    this.options = options;
    this.logger = options.logger ?? stderrLogger;
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connection };
    this.routing = new RoutingTable<ChannelPeer>(options.routing);
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    return listenOn(
      server,
      { port: this.options.port ?? DEFAULT_CHANNEL_PORT, host: this.options.host ?? '0.0.0.0' },
      this.logger,
    );
  }

  /** Bytes queued on every peer's connection: its outbox and its socket's write buffer. */
  get queuedBytes(): number {
    let n = 0;
    for (const p of this.peers) n += p.connection.outboxBytes + p.connection.socket.writableLength;
    return n;
  }

  /** Authenticated peers currently connected. */
  get peerCount(): number {
    let n = 0;
    for (const p of this.peers) if (p.authenticated) n++;
    return n;
  }

  /** Whether any session asked for reply payloads: only then does the capture edge attach them. */
  get wantsPayloads(): boolean {
    return this.routing.wantsPayloads;
  }

  /**
   * Routes one captured reply: to its registered connection, parked, or counted unroutable. A reply
   * carrying `payload` goes as RESPONSE_DATA with as much of it as its session asked for, and as a
   * plain RESPONSE to a session that did not ask.
   */
  sendResponse(reply: ResponseMessage): RouteResult<ChannelPeer> {
    const r = this.routing.route(reply, this.nowMs());
    if (r.kind !== 'routed') return r;
    let sent: boolean;
    const payload = reply.payload;
    if (payload === undefined) {
      sent = r.connection.connection.send(reply);
    } else if (r.payloadBytes > 0) {
      const part = payload.length > r.payloadBytes ? payload.subarray(0, r.payloadBytes) : payload;
      sent = r.connection.connection.send(part === payload ? reply : { ...reply, payload: part });
    } else {
      // send() encodes at once, so the reply can lend itself without its payload for the call.
      reply.payload = undefined;
      sent = r.connection.connection.send(reply);
      reply.payload = payload;
    }
    if (!sent) this.stats.sendFailures++;
    return r;
  }

  /** Stops listening and closes every peer. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const p of this.peers) {
      clearInterval(p.statsTimer);
      p.connection.destroy();
    }
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Sends a NOTICE to every authenticated tcpcopy; returns how many got it. */
  notify(code: number, message: string): number {
    let n = 0;
    for (const p of this.peers) if (p.authenticated && p.connection.send({ type: 'notice', code, message })) n++;
    return n;
  }

  private accept(socket: Socket): void {
    this.stats.accepted++;
    const nonce = newNonce();
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const timeoutMs = this.options.authTimeoutMs ?? 5000;
    const peerRef: { peer?: ChannelPeer } = {};
    const timer = setTimeout(() => {
      const p = peerRef.peer;
      if (p && !p.authenticated) {
        this.stats.refused++;
        this.logger.warn(`peer ${remote} refused: no authentication within ${timeoutMs} ms`);
        p.connection.end({ type: 'error', code: ChannelErrorWireCode.AUTH_FAILED, message: 'authentication timeout' });
      }
    }, timeoutMs);
    timer.unref();
    const connection = new ChannelConnection(socket, this.limits, {
      onMessage: (m) => {
        const p = peerRef.peer;
        if (p) this.onMessage(p, m, nonce);
      },
      onError: (e) => {
        if (e instanceof ChannelError) {
          this.stats.protocolErrors++;
          this.logger.warn(`peer ${remote} disconnected: ${e.code} ${e.message}`);
        } else {
          this.logger.warn(`peer ${remote}: ${e.message}`);
        }
      },
      onClose: () => {
        clearTimeout(timer);
        const p = peerRef.peer;
        if (!p) return;
        clearInterval(p.statsTimer);
        this.peers.delete(p);
        const n = this.routing.removeConnection(p);
        if (p.authenticated) this.logger.info(`peer ${remote} (${p.instanceId}) closed; ${n} sessions dropped`);
      },
    });
    const peer: ChannelPeer = { id: this.nextId++, remote, instanceId: '', authenticated: false, connection };
    peerRef.peer = peer;
    this.peers.add(peer);
    connection.send({ type: 'challenge', version: CHANNEL_PROTOCOL_VERSION, nonce });
  }

  private refuse(p: ChannelPeer, why: string, code: number): void {
    this.stats.refused++;
    this.logger.warn(`peer ${p.remote} refused: ${why}`);
    p.connection.end({ type: 'error', code, message: why });
    p.connection.socket.destroySoon();
  }

  private onMessage(p: ChannelPeer, m: ChannelMessage, nonce: Buffer): void {
    if (!p.authenticated) {
      if (m.type !== 'hello') {
        this.refuse(p, `${m.type} before authentication`, ChannelErrorWireCode.AUTH_FAILED);
        return;
      }
      if (m.version !== CHANNEL_PROTOCOL_VERSION) {
        this.refuse(
          p,
          `protocol version ${m.version}, expected ${CHANNEL_PROTOCOL_VERSION}`,
          ChannelErrorWireCode.PROTOCOL,
        );
        return;
      }
      if (m.role !== PeerRole.TCPCOPY) {
        this.refuse(p, `role ${m.role} is not tcpcopy`, ChannelErrorWireCode.PROTOCOL);
        return;
      }
      if (!verifyMac(this.secret, nonce, m.role, m.instanceId, m.mac)) {
        this.refuse(p, `wrong shared secret (instance "${m.instanceId}")`, ChannelErrorWireCode.AUTH_FAILED);
        return;
      }
      p.authenticated = true;
      p.instanceId = m.instanceId;
      this.stats.authenticated++;
      this.logger.info(`peer ${p.remote} authenticated as "${m.instanceId}"`);
      p.connection.send({ type: 'welcome', version: CHANNEL_PROTOCOL_VERSION });
      const payloadBytes = this.options.replyPayloadBytes ?? 0;
      const features: string[] = [];
      if (payloadBytes > 0) features.push(`reply-payload=${payloadBytes}`);
      if (this.options.stats !== undefined) features.push('stats');
      if (features.length > 0)
        p.connection.send({ type: 'notice', code: NoticeCode.FEATURES, message: features.join(' ') });
      return;
    }
    switch (m.type) {
      case 'register': {
        const parked = this.routing.register(m.session, p, this.nowMs());
        for (const r of parked) if (!p.connection.send(r)) this.stats.sendFailures++;
        this.options.onRegister?.(m.session, p);
        return;
      }
      case 'unregister':
        this.routing.unregister(m.session, p);
        return;
      case 'payload-want': {
        const most = this.options.replyPayloadBytes ?? 0;
        if (most === 0) {
          this.refuse(p, 'PAYLOAD_WANT: this intercept forwards no reply payloads', ChannelErrorWireCode.PROTOCOL);
          return;
        }
        // A session not (or no longer) registered by this peer: ignored, as a foreign UNREGISTER is.
        this.routing.wantPayload(m.session, p, Math.min(m.maxBytes, most));
        return;
      }
      case 'stats-want': {
        const stats = this.options.stats;
        if (stats === undefined) {
          this.refuse(p, 'STATS_WANT: this intercept sends no stats', ChannelErrorWireCode.PROTOCOL);
          return;
        }
        clearInterval(p.statsTimer);
        p.statsTimer = undefined;
        if (m.intervalMs === 0) return;
        const ms = Math.min(Math.max(m.intervalMs, STATS_INTERVAL_BOUNDS_MS.min), STATS_INTERVAL_BOUNDS_MS.max);
        const send = (): void => {
          p.connection.send({ type: 'notice', code: NoticeCode.STATS, message: formatStatsNotice(stats()) });
        };
        send();
        p.statsTimer = setInterval(send, ms);
        p.statsTimer.unref();
        return;
      }
      case 'ping':
        p.connection.send({ type: 'pong', token: m.token });
        return;
      case 'pong':
        return;
      case 'error':
        this.logger.warn(`peer ${p.remote} reported error ${m.code}: ${m.message}`);
        p.connection.end();
        return;
      default:
        this.stats.protocolErrors++;
        this.refuse(p, `unexpected ${m.type} from tcpcopy`, ChannelErrorWireCode.PROTOCOL);
    }
  }
}
