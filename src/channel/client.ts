// tcpcopy's side of the channel: C connections to each intercept, authentication with the shared
// secret, every session registered with every intercept (round-robin over that intercept's live
// connections), replies handed to onResponse, and reconnection with exponential backoff.

import { connect } from 'node:net';
import { computeMac, resolveSecret } from './auth.js';
import { ChannelConnection, DEFAULT_CONNECTION_LIMITS } from './connection.js';
import type { ConnectionLimits } from './connection.js';
import { ChannelError } from './errors.js';
import { stderrLogger } from './logger.js';
import type { ChannelLogger } from './logger.js';
import { CHANNEL_PROTOCOL_VERSION, DEFAULT_CHANNEL_PORT, PeerRole, sessionKeyString } from './messages.js';
import type { ChannelMessage, NoticeMessage, ResponseMessage, SessionKey } from './messages.js';

/** How many unregistered sessions the client remembers the connections of (see ChannelClient.recent). */
const RECENT_SESSIONS = 65_536;

export interface ChannelServerAddress {
  host: string;
  port: number;
}

/** Parses `-s ip[:port],...` (IPv6 as `[addr]:port` or a bare address); port defaults to `defaultPort`. */
export function parseServerList(text: string, defaultPort = DEFAULT_CHANNEL_PORT): ChannelServerAddress[] {
  const out: ChannelServerAddress[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') throw new ChannelError('BAD_FIELD', `empty item in server list "${text}"`);
    let host = item;
    let portText: string | undefined;
    const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(item);
    if (bracket) {
      host = bracket[1] ?? '';
      portText = bracket[2];
    } else if (item.indexOf(':') === item.lastIndexOf(':') && item.includes(':')) {
      host = item.slice(0, item.indexOf(':'));
      portText = item.slice(item.indexOf(':') + 1);
    }
    let port = defaultPort;
    if (portText !== undefined) {
      port = /^\d{1,5}$/.test(portText) ? Number(portText) : -1;
      if (port < 1 || port > 65535) throw new ChannelError('BAD_FIELD', `bad port in server "${item}"`);
    }
    if (host === '') throw new ChannelError('BAD_FIELD', `empty host in server "${item}"`);
    out.push({ host, port });
  }
  return out;
}

export interface BackoffOptions {
  /** First reconnect delay. Default 100 ms. */
  initialDelayMs: number;
  /** Ceiling of the doubling delay. Default 5000 ms. */
  maxDelayMs: number;
}

export interface ChannelClientOptions {
  servers: ChannelServerAddress[];
  /** Connections to each server (`-C`). Default 2. */
  connectionsPerServer?: number;
  /** Shared secret; when absent, TCPCOPY_SECRET from `env`. */
  secret?: string;
  env?: NodeJS.ProcessEnv;
  /** Sent in HELLO and logged by intercept. Default `tcpcopy-<pid>`. */
  instanceId?: string;
  logger?: ChannelLogger;
  backoff?: Partial<BackoffOptions>;
  connection?: Partial<ConnectionLimits>;
  onResponse?: (reply: ResponseMessage) => void;
  /**
   * onResponse gets one reused message, valid only during the call (no allocation per reply); a
   * handler that keeps replies copies them. Default false.
   */
  transientResponses?: boolean;
  /** A NOTICE from intercept (`where` names the server): a diagnosis to log. */
  onNotice?: (notice: NoticeMessage, where: string) => void;
  /** Called whenever the number of authenticated connections changes. */
  onConnectionsChange?: (authenticated: number) => void;
}

export interface ChannelClientStats {
  connectAttempts: number;
  authenticated: number;
  disconnects: number;
  authFailures: number;
  protocolErrors: number;
  responses: number;
  registrationsSent: number;
}

interface Slot {
  readonly server: ChannelServerAddress;
  readonly index: number;
  conn: ChannelConnection | null;
  authenticated: boolean;
  attempts: number;
  timer: NodeJS.Timeout | null;
  /** Sessions this connection carries the registration of. */
  readonly sessions: Map<string, SessionKey>;
}

export class ChannelClient {
  readonly stats: ChannelClientStats = {
    connectAttempts: 0, authenticated: 0, disconnects: 0, authFailures: 0, protocolErrors: 0, responses: 0, registrationsSent: 0,
  };
  private readonly options: ChannelClientOptions;
  private readonly secret: string;
  private readonly instanceId: string;
  private readonly logger: ChannelLogger;
  private readonly backoff: BackoffOptions;
  private readonly limits: ConnectionLimits;
  private readonly groups: Slot[][];
  private readonly rr: number[];
  private readonly live = new Map<string, Slot[]>();
  /**
   * The connections of recently unregistered sessions (oldest first, at most RECENT_SESSIONS). A
   * session key registered again (a reused client port) goes on the same connection as before, so
   * its REGISTER follows the old UNREGISTER on one ordered stream instead of overtaking it on
   * another connection, which intercept would see as a takeover (`misrouted`).
   */
  private readonly recent = new Map<string, Slot[]>();
  private running = false;
  private authenticatedCount = 0;

  constructor(options: ChannelClientOptions) {
    if (options.servers.length === 0) throw new ChannelError('BAD_FIELD', 'ChannelClient needs at least one server');
    const c = options.connectionsPerServer ?? 2;
    if (!Number.isInteger(c) || c < 1) throw new ChannelError('BAD_FIELD', `connectionsPerServer ${c} is not a positive integer`);
    this.options = options;
    this.secret = resolveSecret(options.secret, options.env ?? process.env);
    this.instanceId = options.instanceId ?? `tcpcopy-${process.pid}`;
    this.logger = options.logger ?? stderrLogger;
    this.backoff = { initialDelayMs: 100, maxDelayMs: 5000, ...options.backoff };
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connection };
    this.groups = options.servers.map((server) => Array.from({ length: c }, (_, index): Slot => ({
      server, index, conn: null, authenticated: false, attempts: 0, timer: null, sessions: new Map(),
    })));
    this.rr = options.servers.map(() => 0);
  }

  /** Connections that finished authentication and are open. */
  get authenticatedConnections(): number {
    return this.authenticatedCount;
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
    if (this.live.has(key)) return;
    const before = this.recent.get(key);
    this.recent.delete(key);
    const slots: Slot[] = [];
    this.groups.forEach((g, gi) => {
      const prev = before?.[gi];
      const slot = prev?.authenticated === true ? prev : this.pick(g, gi);
      slot.sessions.set(key, session);
      slots.push(slot);
      if (slot.authenticated) this.sendRegister(slot, session);
    });
    this.live.set(key, slots);
  }

  unregister(session: SessionKey): void {
    const key = sessionKeyString(session);
    const slots = this.live.get(key);
    if (!slots) return;
    this.live.delete(key);
    for (const g of this.groups) {
      for (const slot of g) {
        if (!slot.sessions.delete(key)) continue;
        if (slot.authenticated) slot.conn?.send({ type: 'unregister', session });
      }
    }
    this.recent.set(key, slots);
    if (this.recent.size > RECENT_SESSIONS) this.recent.delete(this.recent.keys().next().value as string);
  }

  /**
   * Writes every queued message now. tcpcopy calls it before it sends the packets of a turn, so a
   * session's REGISTER is on the wire before its SYN can reach the target.
   */
  flush(): void {
    for (const g of this.groups) for (const s of g) s.conn?.flush();
  }

  /** Stops reconnecting and closes every connection. */
  async close(): Promise<void> {
    this.running = false;
    const closing: Promise<void>[] = [];
    for (const g of this.groups) {
      for (const s of g) {
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        const sock = s.conn?.socket;
        if (sock && !sock.destroyed) closing.push(new Promise((r) => sock.once('close', () => r())));
        s.conn?.destroy();
      }
    }
    await Promise.all(closing);
  }

  /** Resolves once at least `count` connections are authenticated (default: all of them). */
  waitForConnections(count = this.groups.length * (this.groups[0]?.length ?? 0)): Promise<void> {
    if (this.authenticatedCount >= count) return Promise.resolve();
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

  private pick(g: Slot[], gi: number): Slot {
    const n = g.length;
    const start = this.rr[gi] ?? 0;
    for (let i = 0; i < n; i++) {
      const slot = g[(start + i) % n] as Slot;
      if (slot.authenticated) {
        this.rr[gi] = (start + i + 1) % n;
        return slot;
      }
    }
    this.rr[gi] = (start + 1) % n;
    return g[start % n] as Slot;
  }

  private sendRegister(slot: Slot, session: SessionKey): void {
    if (slot.conn?.send({ type: 'register', session })) this.stats.registrationsSent++;
  }

  private setAuthenticated(slot: Slot, value: boolean): void {
    if (slot.authenticated === value) return;
    slot.authenticated = value;
    this.authenticatedCount += value ? 1 : -1;
    this.options.onConnectionsChange?.(this.authenticatedCount);
  }

  private open(slot: Slot): void {
    slot.timer = null;
    if (!this.running) return;
    this.stats.connectAttempts++;
    const where = `${slot.server.host}:${slot.server.port}#${slot.index}`;
    const socket = connect({ host: slot.server.host, port: slot.server.port });
    const conn = new ChannelConnection(socket, this.limits, {
      onMessage: (m) => this.onMessage(slot, conn, m, where),
      onError: (e) => {
        if (e instanceof ChannelError) {
          this.stats.protocolErrors++;
          this.logger.warn(`intercept ${where}: ${e.code} ${e.message}`);
        } else if (slot.attempts === 0 || slot.authenticated) {
          this.logger.warn(`intercept ${where}: ${e.message}`);
        }
      },
      onClose: () => this.onClose(slot, conn, where),
    }, this.options.transientResponses === true);
    slot.conn = conn;
  }

  private onMessage(slot: Slot, conn: ChannelConnection, m: ChannelMessage, where: string): void {
    switch (m.type) {
      case 'response':
        this.stats.responses++;
        this.options.onResponse?.(m);
        return;
      case 'challenge':
        if (m.version !== CHANNEL_PROTOCOL_VERSION) {
          this.logger.error(`intercept ${where} speaks protocol ${m.version}, expected ${CHANNEL_PROTOCOL_VERSION}`);
          conn.end();
          return;
        }
        conn.send({
          type: 'hello', version: CHANNEL_PROTOCOL_VERSION, role: PeerRole.TCPCOPY, instanceId: this.instanceId,
          mac: computeMac(this.secret, m.nonce, PeerRole.TCPCOPY, this.instanceId),
        });
        return;
      case 'welcome':
        slot.attempts = 0;
        this.stats.authenticated++;
        this.logger.info(`intercept ${where} connected`);
        this.setAuthenticated(slot, true);
        for (const s of slot.sessions.values()) this.sendRegister(slot, s);
        return;
      case 'ping':
        conn.send({ type: 'pong', token: m.token });
        return;
      case 'pong':
        return;
      case 'notice':
        this.options.onNotice?.(m, where);
        return;
      case 'error':
        if (!slot.authenticated) this.stats.authFailures++;
        this.logger.error(`intercept ${where} refused us: ${m.message}`);
        conn.end();
        return;
      default:
        this.stats.protocolErrors++;
        this.logger.warn(`intercept ${where} sent unexpected ${m.type}`);
        conn.end();
    }
  }

  private onClose(slot: Slot, conn: ChannelConnection, where: string): void {
    if (slot.conn !== conn) return;
    slot.conn = null;
    const wasUp = slot.authenticated;
    this.setAuthenticated(slot, false);
    if (wasUp) {
      this.stats.disconnects++;
      this.logger.warn(`intercept ${where} disconnected`);
      // Hand this connection's sessions to a live sibling so replies keep flowing meanwhile.
      const g = this.groups.find((x) => x.includes(slot));
      const sibling = g?.find((s) => s !== slot && s.authenticated);
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
}
