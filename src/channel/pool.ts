// tcpcopy's connections to its intercepts, whatever the wire format: C connections ("slots") to each
// intercept, every session registered with every intercept on one of that intercept's live
// connections (round-robin), a lost connection's sessions handed to a live sibling, reconnection with
// exponential backoff until close(), and the counters. ChannelClient (our framed, authenticated
// channel) and Tcpcopy1Client (the C TCPCopy 1.x records) extend it with how a connection is opened,
// brought up and how a registration is written.

import type { Socket } from 'node:net';
import { ChannelError } from './errors.js';
import { stderrLogger } from './logger.js';
import type { ChannelLogger } from './logger.js';
import { sessionKeyString } from './messages.js';
import type { ResponseMessage, SessionKey } from './messages.js';
import { RecentMap } from './recent-map.js';

/** How many unregistered sessions the pool remembers the connections of (see ConnectionPool.recent). */
const RECENT_SESSIONS = 65_536;

export interface ChannelServerAddress {
  host: string;
  port: number;
}

export interface BackoffOptions {
  /** First reconnect delay. Default 100 ms. */
  initialDelayMs: number;
  /** Ceiling of the doubling delay. Default 5000 ms. */
  maxDelayMs: number;
}

/** What every pool needs, whatever its wire format. */
export interface ConnectionPoolOptions {
  servers: ChannelServerAddress[];
  /** Connections to each server (`-C`). Default 2. */
  connectionsPerServer?: number;
  logger?: ChannelLogger;
  backoff?: Partial<BackoffOptions>;
  onResponse?: (reply: ResponseMessage) => void;
  /** Called whenever the number of connections that are up (authenticated) changes. */
  onConnectionsChange?: (authenticated: number) => void;
}

export interface ChannelClientStats {
  connectAttempts: number;
  /** Connections brought up (authenticated, or for TCPCopy 1.x: version record sent). */
  authenticated: number;
  disconnects: number;
  authFailures: number;
  protocolErrors: number;
  responses: number;
  registrationsSent: number;
}

/** What the pool needs of an open connection. */
export interface PoolLink {
  readonly socket: Socket;
  /** Bytes queued in the link itself, not yet handed to the socket. */
  readonly outboxBytes?: number;
  /** Writes whatever is queued now. */
  flush(): void;
}

export interface PoolSlot<L extends PoolLink> {
  readonly server: ChannelServerAddress;
  readonly index: number;
  /** `host:port#index`, for log lines. */
  readonly where: string;
  link: L | null;
  /** Open and ready for registrations (authenticated, or the version record sent). */
  up: boolean;
  /** Failed connects since it was last up (drives the backoff). */
  attempts: number;
  timer: NodeJS.Timeout | null;
  /** Sessions this connection carries the registration of. */
  readonly sessions: Map<string, SessionKey>;
  /** Reply payload bytes its intercept forwards on request (announced after it came up); 0: none. */
  replyPayloadBytes: number;
}

export abstract class ConnectionPool<L extends PoolLink> {
  readonly stats: ChannelClientStats = {
    connectAttempts: 0,
    authenticated: 0,
    disconnects: 0,
    authFailures: 0,
    protocolErrors: 0,
    responses: 0,
    registrationsSent: 0,
  };
  protected readonly logger: ChannelLogger;
  protected running = false;
  private readonly options: ConnectionPoolOptions;
  private readonly backoff: BackoffOptions;
  private readonly groups: PoolSlot<L>[][];
  private readonly rr: number[];
  private readonly live = new Map<string, PoolSlot<L>[]>();
  /**
   * The connections of recently unregistered sessions (the last RECENT_SESSIONS at least). A
   * session key registered again (a reused client port) goes on the same connection as before, so
   * its registration follows the old unregistration on one ordered stream instead of overtaking it on
   * another connection, which intercept would see as a takeover (`misrouted`).
   */
  private readonly recent = new RecentMap<string, PoolSlot<L>[]>(RECENT_SESSIONS);
  /** Sessions that asked for their replies' payload (wantPayload): bytes per reply. */
  private readonly payloadWants = new Map<string, number>();
  private upCount = 0;

  /** `name` names the class in the errors about its options. */
  constructor(name: string, options: ConnectionPoolOptions) {
    if (options.servers.length === 0) throw new ChannelError('BAD_FIELD', `${name} needs at least one server`);
    const c = options.connectionsPerServer ?? 2;
    if (!Number.isInteger(c) || c < 1)
      throw new ChannelError('BAD_FIELD', `connectionsPerServer ${c} is not a positive integer`);
    this.options = options;
    this.logger = options.logger ?? stderrLogger;
    this.backoff = { initialDelayMs: 100, maxDelayMs: 5000, ...options.backoff };
    this.groups = options.servers.map((server) =>
      Array.from({ length: c }, (_, index): PoolSlot<L> => ({
        server,
        index,
        where: `${server.host}:${server.port}#${index}`,
        link: null,
        up: false,
        attempts: 0,
        timer: null,
        sessions: new Map(),
        replyPayloadBytes: 0,
      })),
    );
    this.rr = options.servers.map(() => 0);
  }

  /** Bytes queued on every connection: the links' outboxes and the sockets' write buffers. */
  get queuedBytes(): number {
    let n = 0;
    for (const g of this.groups) {
      for (const s of g) if (s.link !== null) n += (s.link.outboxBytes ?? 0) + s.link.socket.writableLength;
    }
    return n;
  }

  /** Connections that are open and up (authenticated). */
  get authenticatedConnections(): number {
    return this.upCount;
  }

  /**
   * Connections up whose intercept forwards reply payloads on request; the MySQL mode needs one to
   * each intercept.
   */
  get payloadConnections(): number {
    let n = 0;
    for (const g of this.groups) for (const s of g) if (s.up && s.replyPayloadBytes > 0) n++;
    return n;
  }

  /**
   * Asks every intercept for the first `maxBytes` of each reply of a registered session (0: no
   * more). Kept, and asked again after a reconnect, until the session is unregistered. Intercepts
   * that do not forward payloads are not asked (see payloadConnections).
   */
  wantPayload(session: SessionKey, maxBytes: number): void {
    const key = sessionKeyString(session);
    const slots = this.live.get(key);
    if (!slots) return;
    if (maxBytes > 0) this.payloadWants.set(key, maxBytes);
    else this.payloadWants.delete(key);
    for (const slot of slots) this.sendPayloadWant(slot, session, maxBytes);
  }

  /** Sessions registered and not unregistered. */
  get liveSessions(): number {
    return this.live.size;
  }

  /** Opens every connection; lost ones are reopened with backoff until close(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const g of this.groups) for (const s of g) this.open(s);
  }

  /** Registers a session with every server (kept and re-sent after reconnects until unregistered). */
  register(session: SessionKey): void {
    const key = sessionKeyString(session);
    if (this.live.has(key) || !this.carries(session)) return;
    const before = this.recent.get(key);
    this.recent.delete(key);
    const slots: PoolSlot<L>[] = [];
    this.groups.forEach((g, gi) => {
      const prev = before?.[gi];
      const slot = prev?.up === true ? prev : this.pick(g, gi);
      slot.sessions.set(key, session);
      slots.push(slot);
      if (slot.up) this.sendRegister(slot, session);
    });
    this.live.set(key, slots);
  }

  /** Stops carrying a session (and withdraws its registration where the wire format has a way to). */
  unregister(session: SessionKey): void {
    const key = sessionKeyString(session);
    const slots = this.live.get(key);
    if (!slots) return;
    this.live.delete(key);
    this.payloadWants.delete(key);
    for (const slot of slots) {
      if (slot.sessions.delete(key) && slot.up && slot.link) this.writeUnregister(slot.link, session);
    }
    this.recent.set(key, slots);
  }

  /**
   * Writes everything queued now. tcpcopy calls it before it sends the packets of a turn, so a
   * session's registration is on the wire before its SYN can reach the target.
   */
  flush(): void {
    for (const g of this.groups) for (const s of g) s.link?.flush();
  }

  /** Stops reconnecting and closes every connection. */
  async close(): Promise<void> {
    this.running = false;
    const closing: Promise<void>[] = [];
    for (const g of this.groups) {
      for (const s of g) {
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        const sock = s.link?.socket;
        if (sock && !sock.destroyed) {
          closing.push(new Promise((r) => sock.once('close', () => r())));
          sock.destroy();
        }
      }
    }
    await Promise.all(closing);
  }

  /** Resolves once at least `count` connections are up (default: all of them). */
  waitForConnections(count = this.groups.length * (this.groups[0]?.length ?? 0)): Promise<void> {
    if (this.upCount >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.options.onConnectionsChange;
      this.options.onConnectionsChange = (n) => {
        prev?.(n);
        if (n >= count) {
          this.options.onConnectionsChange = prev;
          resolve();
        }
      };
    });
  }

  /** Opens the connection of `slot`; its events come back through linkUp, linkClosed, deliver and the error methods. */
  protected abstract connect(slot: PoolSlot<L>): L;

  /** Queues the registration of `session` on `link`; false when it could not be queued. */
  protected abstract writeRegister(link: L, session: SessionKey): boolean;

  /** Queues the withdrawal of a registration (nothing, for a format that has none). */
  protected abstract writeUnregister(link: L, session: SessionKey): void;

  /** Queues a PAYLOAD_WANT; false where the wire format has none (TCPCopy 1.x). */
  protected writePayloadWant(_link: L, _session: SessionKey, _maxBytes: number): boolean {
    return false;
  }

  /**
   * The intercept of `slot` said it forwards up to `replyPayloadBytes` of each reply on request: the
   * sessions it carries that want payload ask it now (their REGISTER went when it came up).
   */
  protected payloadAnnounced(slot: PoolSlot<L>, replyPayloadBytes: number): void {
    slot.replyPayloadBytes = replyPayloadBytes;
    for (const [key, s] of slot.sessions) {
      const want = this.payloadWants.get(key);
      if (want !== undefined) this.sendPayloadWant(slot, s, want);
    }
  }

  /** Whether this wire format can carry `session` at all (others are never registered). */
  protected carries(_session: SessionKey): boolean {
    return true;
  }

  /** The connection of `slot` is ready: reset its backoff and register the sessions it carries. */
  protected linkUp(slot: PoolSlot<L>, how = ''): void {
    slot.attempts = 0;
    this.stats.authenticated++;
    this.logger.info(`intercept ${slot.where} connected${how}`);
    this.setUp(slot, true);
    for (const s of slot.sessions.values()) this.sendRegister(slot, s);
  }

  /** A reply from intercept. */
  protected deliver(reply: ResponseMessage): void {
    this.stats.responses++;
    this.options.onResponse?.(reply);
  }

  /** Bytes that break the wire format (the connection is being closed). */
  protected protocolError(slot: PoolSlot<L>, code: string, message: string): void {
    this.stats.protocolErrors++;
    this.logger.warn(`intercept ${slot.where}: ${code} ${message}`);
  }

  /** A socket error: logged on a first attempt or a live connection, not on every failed reconnect. */
  protected socketError(slot: PoolSlot<L>, e: Error): void {
    if (slot.attempts === 0 || slot.up) this.logger.warn(`intercept ${slot.where}: ${e.message}`);
  }

  /** The socket of `link` closed: hand its sessions to a live sibling and schedule the reconnect. */
  protected linkClosed(slot: PoolSlot<L>, link: L): void {
    if (slot.link !== link) return;
    slot.link = null;
    slot.replyPayloadBytes = 0;
    const wasUp = slot.up;
    this.setUp(slot, false);
    if (wasUp) {
      this.stats.disconnects++;
      this.logger.warn(`intercept ${slot.where} disconnected`);
      // Replies keep flowing on the sibling meanwhile.
      const g = this.groups.find((x) => x.includes(slot));
      const sibling = g?.find((s) => s !== slot && s.up);
      if (sibling) {
        for (const [key, s] of slot.sessions) {
          sibling.sessions.set(key, s);
          this.sendRegister(sibling, s);
          const slots = this.live.get(key);
          if (slots) slots[slots.indexOf(slot)] = sibling;
        }
        slot.sessions.clear();
      }
    }
    if (!this.running) return;
    const delay = Math.min(this.backoff.maxDelayMs, this.backoff.initialDelayMs * 2 ** Math.min(slot.attempts, 30));
    slot.attempts++;
    slot.timer = setTimeout(() => this.open(slot), delay);
  }

  private open(slot: PoolSlot<L>): void {
    slot.timer = null;
    if (!this.running) return;
    this.stats.connectAttempts++;
    slot.link = this.connect(slot);
  }

  private pick(g: PoolSlot<L>[], gi: number): PoolSlot<L> {
    const n = g.length;
    const start = this.rr[gi] ?? 0;
    for (let i = 0; i < n; i++) {
      const slot = g[(start + i) % n] as PoolSlot<L>;
      if (slot.up) {
        this.rr[gi] = (start + i + 1) % n;
        return slot;
      }
    }
    this.rr[gi] = (start + 1) % n;
    return g[start % n] as PoolSlot<L>;
  }

  private sendRegister(slot: PoolSlot<L>, session: SessionKey): void {
    if (slot.link && this.writeRegister(slot.link, session)) this.stats.registrationsSent++;
    // The key string only when some session wants payloads (a string per registration otherwise).
    if (this.payloadWants.size === 0) return;
    const want = this.payloadWants.get(sessionKeyString(session));
    if (want !== undefined) this.sendPayloadWant(slot, session, want);
  }

  private sendPayloadWant(slot: PoolSlot<L>, session: SessionKey, maxBytes: number): void {
    if (slot.up && slot.link && slot.replyPayloadBytes > 0) this.writePayloadWant(slot.link, session, maxBytes);
  }

  private setUp(slot: PoolSlot<L>, value: boolean): void {
    if (slot.up === value) return;
    slot.up = value;
    this.upCount += value ? 1 : -1;
    this.options.onConnectionsChange?.(this.upCount);
  }
}
