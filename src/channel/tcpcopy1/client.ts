// tcpcopy's side of the TCPCopy 1.x channel (`tcpcopy --tcpcopy1`): talks to a C intercept (or our
// intercept --tcpcopy1) with the same methods as ChannelClient, so the replicator does not care which
// one it has. Each connection starts with the version record (no authentication exists); every
// session is registered with every intercept by a CLIENT_ADD on one of its connections
// (round-robin); replies arrive as combined frames of 64-byte server records. Like the C tcpcopy it
// never sends CLIENT_DEL (a C intercept only logs it): unregister() only stops re-registration after a
// reconnect. Lost connections are reopened with exponential backoff until close().

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { ChannelError } from '../errors.js';
import { stderrLogger } from '../logger.js';
import type { ChannelLogger } from '../logger.js';
import { sessionKeyString } from '../messages.js';
import type { SessionKey } from '../messages.js';
import type { BackoffOptions, ChannelClientOptions, ChannelClientStats, ChannelServerAddress } from '../client.js';
import {
  CLIENT_RECORD_LENGTH, Tcpcopy1Error, emitClientRecordInto, responseFromServerRecord, tcpcopy1Session, versionRecord,
} from './records.js';
import type { ClientRecord } from './records.js';
import { CombinedFrameStream } from './stream.js';

/**
 * ChannelClient's options, so the replicator builds either class from one object. `secret`, `env`,
 * `instanceId` and `connection` are not used (the C protocol has none of them); `onNotice` is never
 * called (no notice message); `onConnectionsChange` counts connections whose version record was sent.
 */
export type Tcpcopy1ClientOptions = ChannelClientOptions;

interface Slot {
  readonly server: ChannelServerAddress;
  readonly index: number;
  socket: Socket | null;
  decoder: CombinedFrameStream | null;
  /** Connected and the version record sent. */
  up: boolean;
  attempts: number;
  timer: NodeJS.Timeout | null;
  readonly sessions: Map<string, SessionKey>;
  out: Buffer[];
  flushScheduled: boolean;
}

export class Tcpcopy1Client {
  /** Same counters as ChannelClient; `authenticated` counts connections that sent their version record. */
  readonly stats: ChannelClientStats = {
    connectAttempts: 0, authenticated: 0, disconnects: 0, authFailures: 0, protocolErrors: 0, responses: 0, registrationsSent: 0,
  };
  private readonly options: Tcpcopy1ClientOptions;
  private readonly logger: ChannelLogger;
  private readonly backoff: BackoffOptions;
  private readonly groups: Slot[][];
  private readonly rr: number[];
  private readonly live = new Map<string, Slot[]>();
  private running = false;
  private upCount = 0;

  constructor(options: Tcpcopy1ClientOptions) {
    if (options.servers.length === 0) throw new ChannelError('BAD_FIELD', 'Tcpcopy1Client needs at least one server');
    const c = options.connectionsPerServer ?? 2;
    if (!Number.isInteger(c) || c < 1) throw new ChannelError('BAD_FIELD', `connectionsPerServer ${c} is not a positive integer`);
    this.options = options;
    this.logger = options.logger ?? stderrLogger;
    this.backoff = { initialDelayMs: 100, maxDelayMs: 5000, ...options.backoff };
    this.groups = options.servers.map((server) => Array.from({ length: c }, (_, index): Slot => ({
      server, index, socket: null, decoder: null, up: false, attempts: 0, timer: null, sessions: new Map(), out: [], flushScheduled: false,
    })));
    this.rr = options.servers.map(() => 0);
  }

  /** Connections open with their version record sent (the C protocol's "authenticated"). */
  get authenticatedConnections(): number {
    return this.upCount;
  }

  /** Sessions registered and not unregistered. */
  get liveSessions(): number {
    return this.live.size;
  }

  /** Opens every connection; lost ones are reopened with backoff until close(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.logger.warn('TCPCopy 1.x compatibility: the channel to intercept is NOT authenticated');
    for (const g of this.groups) for (const s of g) this.open(s);
  }

  /** Registers an IPv4 session with every server (CLIENT_ADD; re-sent after reconnects until unregistered). */
  register(session: SessionKey): void {
    const key = sessionKeyString(session);
    if (this.live.has(key) || session.family !== 4) return;
    const slots: Slot[] = [];
    this.groups.forEach((g, gi) => {
      const slot = this.pick(g, gi);
      slot.sessions.set(key, session);
      slots.push(slot);
      if (slot.up) this.sendAdd(slot, session);
    });
    this.live.set(key, slots);
  }

  /** Forgets a session (no CLIENT_DEL is sent, as with the C tcpcopy). */
  unregister(session: SessionKey): void {
    const key = sessionKeyString(session);
    const slots = this.live.get(key);
    if (!slots) return;
    this.live.delete(key);
    for (const slot of slots) slot.sessions.delete(key);
  }

  /** Stops reconnecting and closes every connection. */
  async close(): Promise<void> {
    this.running = false;
    const closing: Promise<void>[] = [];
    for (const g of this.groups) {
      for (const s of g) {
        if (s.timer) clearTimeout(s.timer);
        s.timer = null;
        const sock = s.socket;
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

  private pick(g: Slot[], gi: number): Slot {
    const n = g.length;
    const start = this.rr[gi] ?? 0;
    for (let i = 0; i < n; i++) {
      const slot = g[(start + i) % n] as Slot;
      if (slot.up) {
        this.rr[gi] = (start + i + 1) % n;
        return slot;
      }
    }
    this.rr[gi] = (start + 1) % n;
    return g[start % n] as Slot;
  }

  private sendAdd(slot: Slot, session: SessionKey): void {
    let record: ClientRecord;
    try {
      record = { kind: 'add', session: tcpcopy1Session(session) };
    } catch (e) {
      if (e instanceof Tcpcopy1Error) return;
      throw e;
    }
    if (this.enqueue(slot, record)) this.stats.registrationsSent++;
  }

  /** Queues a record; everything queued while one input is handled goes out in one write from process.nextTick. */
  private enqueue(slot: Slot, record: ClientRecord): boolean {
    const sock = slot.socket;
    if (!sock || sock.destroyed) return false;
    const buf = Buffer.allocUnsafe(CLIENT_RECORD_LENGTH);
    emitClientRecordInto(record, buf, 0);
    slot.out.push(buf);
    if (!slot.flushScheduled) {
      slot.flushScheduled = true;
      process.nextTick(() => {
        if (slot.flushScheduled) this.flushSlot(slot);
      });
    }
    return true;
  }

  /** Writes every queued record now (before tcpcopy sends a turn's packets: REGISTER before SYN). */
  flush(): void {
    for (const g of this.groups) for (const slot of g) this.flushSlot(slot);
  }

  private flushSlot(slot: Slot): void {
    slot.flushScheduled = false;
    const sock = slot.socket;
    if (slot.out.length === 0) return;
    const out = slot.out.length === 1 ? slot.out[0] as Buffer : Buffer.concat(slot.out);
    slot.out = [];
    if (sock && !sock.destroyed) sock.write(out);
  }

  private setUp(slot: Slot, value: boolean): void {
    if (slot.up === value) return;
    slot.up = value;
    this.upCount += value ? 1 : -1;
    this.options.onConnectionsChange?.(this.upCount);
  }

  private open(slot: Slot): void {
    slot.timer = null;
    if (!this.running) return;
    this.stats.connectAttempts++;
    const where = `${slot.server.host}:${slot.server.port}#${slot.index}`;
    const socket = connect({ host: slot.server.host, port: slot.server.port });
    const decoder = new CombinedFrameStream();
    slot.socket = socket;
    slot.decoder = decoder;
    slot.out = [];
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (slot.socket !== socket) return;
      this.enqueue(slot, versionRecord());
      slot.attempts = 0;
      this.stats.authenticated++;
      this.logger.info(`intercept ${where} connected (TCPCopy 1.x channel)`);
      this.setUp(slot, true);
      for (const s of slot.sessions.values()) this.sendAdd(slot, s);
    });
    socket.on('data', (chunk: Buffer) => {
      if (slot.socket !== socket) return;
      try {
        decoder.push(chunk, (rec) => {
          this.stats.responses++;
          this.options.onResponse?.(responseFromServerRecord(rec));
        });
      } catch (e) {
        if (!(e instanceof Tcpcopy1Error)) throw e;
        this.stats.protocolErrors++;
        this.logger.warn(`intercept ${where}: ${e.code} ${e.message}`);
        socket.destroy();
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', (e) => {
      if (slot.attempts === 0 || slot.up) this.logger.warn(`intercept ${where}: ${e.message}`);
    });
    socket.on('close', () => this.onClose(slot, socket, where));
  }

  private onClose(slot: Slot, socket: Socket, where: string): void {
    if (slot.socket !== socket) return;
    slot.socket = null;
    slot.decoder = null;
    slot.out = [];
    const wasUp = slot.up;
    this.setUp(slot, false);
    if (wasUp) {
      this.stats.disconnects++;
      this.logger.warn(`intercept ${where} disconnected`);
      // Hand this connection's sessions to a live sibling so replies keep flowing meanwhile.
      const g = this.groups.find((x) => x.includes(slot));
      const sibling = g?.find((s) => s !== slot && s.up);
      if (sibling) {
        for (const [key, s] of slot.sessions) {
          sibling.sessions.set(key, s);
          this.sendAdd(sibling, s);
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
