// tcpcopy's side of our channel: the connection pool (./pool.ts) speaking framed messages, each
// connection authenticated with the shared secret (CHALLENGE → HELLO → WELCOME) before it carries
// registrations; REGISTER / UNREGISTER out, RESPONSE and NOTICE in.

import { connect } from 'node:net';
import { computeMac, resolveSecret } from './auth.js';
import { ChannelConnection, DEFAULT_CONNECTION_LIMITS } from './connection.js';
import type { ConnectionLimits } from './connection.js';
import { ChannelError } from './errors.js';
import { CHANNEL_PROTOCOL_VERSION, DEFAULT_CHANNEL_PORT, NoticeCode, PeerRole } from './messages.js';
import type { ChannelMessage, NoticeMessage, SessionKey } from './messages.js';
import { ConnectionPool } from './pool.js';
import { parseStatsNotice } from './stats-notice.js';
import type { ChannelServerAddress, ConnectionPoolOptions, PoolSlot } from './pool.js';

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

export interface ChannelClientOptions extends ConnectionPoolOptions {
  /** Shared secret; when absent, TCPCOPY_SECRET from `env`. */
  secret?: string;
  env?: NodeJS.ProcessEnv;
  /** Sent in HELLO and logged by intercept. Default `tcpcopy-<pid>`. */
  instanceId?: string;
  connection?: Partial<ConnectionLimits>;
  /**
   * onResponse gets one reused message, valid only during the call (no allocation per reply); a
   * handler that keeps replies copies them. Default false.
   */
  transientResponses?: boolean;
  /** A NOTICE from intercept (`where` names the server): a diagnosis to log. */
  onNotice?: (notice: NoticeMessage, where: string) => void;
  /**
   * Asks every intercept that announced `stats` for its counters this often (ms; 0 or absent: never)
   * and hands them to onStats (`server` is `host:port`, one per intercept whatever its connections).
   */
  statsIntervalMs?: number;
  onStats?: (counters: ReadonlyMap<string, number>, server: string) => void;
}

type Slot = PoolSlot<ChannelConnection>;

export class ChannelClient extends ConnectionPool<ChannelConnection> {
  private readonly secret: string;
  private readonly instanceId: string;
  private readonly limits: ConnectionLimits;
  private readonly transientResponses: boolean;
  private readonly onNotice: ChannelClientOptions['onNotice'];
  private readonly statsIntervalMs: number;
  private readonly onStats: ChannelClientOptions['onStats'];
  /** Servers whose NOTICE STATS failed to parse (warned once each). */
  private readonly badStats = new Set<string>();

  constructor(options: ChannelClientOptions) {
    super('ChannelClient', options);
    this.secret = resolveSecret(options.secret, options.env ?? process.env);
    this.instanceId = options.instanceId ?? `tcpcopy-${process.pid}`;
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connection };
    this.transientResponses = options.transientResponses === true;
    this.onNotice = options.onNotice;
    this.statsIntervalMs = options.statsIntervalMs ?? 0;
    this.onStats = options.onStats;
  }

  protected connect(slot: Slot): ChannelConnection {
    const socket = connect({ host: slot.server.host, port: slot.server.port });
    const conn: ChannelConnection = new ChannelConnection(
      socket,
      this.limits,
      {
        onMessage: (m) => this.onMessage(slot, conn, m),
        onError: (e) => {
          if (e instanceof ChannelError) this.protocolError(slot, e.code, e.message);
          else this.socketError(slot, e);
        },
        onClose: () => this.linkClosed(slot, conn),
      },
      this.transientResponses,
    );
    return conn;
  }

  protected writeRegister(conn: ChannelConnection, session: SessionKey): boolean {
    return conn.send({ type: 'register', session });
  }

  protected writeUnregister(conn: ChannelConnection, session: SessionKey): void {
    conn.send({ type: 'unregister', session });
  }

  protected override writePayloadWant(conn: ChannelConnection, session: SessionKey, maxBytes: number): boolean {
    return conn.send({ type: 'payload-want', session, maxBytes });
  }

  private onMessage(slot: Slot, conn: ChannelConnection, m: ChannelMessage): void {
    const where = slot.where;
    switch (m.type) {
      case 'response':
        this.deliver(m);
        return;
      case 'challenge':
        if (m.version !== CHANNEL_PROTOCOL_VERSION) {
          this.logger.error(`intercept ${where} speaks protocol ${m.version}, expected ${CHANNEL_PROTOCOL_VERSION}`);
          conn.end();
          return;
        }
        conn.send({
          type: 'hello',
          version: CHANNEL_PROTOCOL_VERSION,
          role: PeerRole.TCPCOPY,
          instanceId: this.instanceId,
          mac: computeMac(this.secret, m.nonce, PeerRole.TCPCOPY, this.instanceId),
        });
        return;
      case 'welcome':
        this.linkUp(slot);
        return;
      case 'ping':
        conn.send({ type: 'pong', token: m.token });
        return;
      case 'pong':
        return;
      case 'notice':
        if (m.code === NoticeCode.FEATURES) {
          // Not a diagnosis: what the intercept can do (messages.ts).
          const bytes = /(?:^| )reply-payload=(\d+)(?: |$)/.exec(m.message);
          if (bytes !== null) this.payloadAnnounced(slot, Math.min(Number(bytes[1]), 0xffff));
          if (this.statsIntervalMs > 0 && m.message.split(' ').includes('stats'))
            conn.send({ type: 'stats-want', intervalMs: this.statsIntervalMs });
          return;
        }
        if (m.code === NoticeCode.STATS) {
          const server = `${slot.server.host}:${slot.server.port}`;
          let counters: Map<string, number>;
          try {
            counters = parseStatsNotice(m.message);
          } catch (e) {
            this.stats.protocolErrors++;
            if (!this.badStats.has(server))
              this.logger.warn(`intercept ${where} sent bad stats: ${(e as Error).message}`);
            this.badStats.add(server);
            return;
          }
          this.onStats?.(counters, server);
          return;
        }
        this.onNotice?.(m, where);
        return;
      case 'error':
        if (!slot.up) this.stats.authFailures++;
        this.logger.error(`intercept ${where} refused us: ${m.message}`);
        conn.end();
        return;
      default:
        this.stats.protocolErrors++;
        this.logger.warn(`intercept ${where} sent unexpected ${m.type}`);
        conn.end();
    }
  }
}
