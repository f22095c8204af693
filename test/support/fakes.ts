// Fakes of the I/O the Replicator and the intercept service open (capture/, send/, channel/ seams),
// so both run in unit tests without root, namespaces or sockets. Each fake records what the service
// did to it and lets the test play the world's part: captured batches, send failures, replies from
// intercept, channel connections coming and going.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { CaptureBatch } from '../../src/capture/index.js';
import type { LiveCaptureEvents, PacketSource } from '../../src/capture/index.js';
import type { PackedPackets, PacketSink, SendCounters } from '../../src/send/index.js';
import { RoutingTable } from '../../src/channel/index.js';
import type {
  ChannelClientOptions,
  RegistrationClient,
  ReplyRouter,
  ResponseMessage,
  RouteResult,
  SessionKey,
} from '../../src/channel/index.js';
import { createLogger } from '../../src/log/index.js';
import type { Logger } from '../../src/log/index.js';
import { LinkType } from '../../src/packet/index.js';

/** A logger that keeps its lines ("[level] text", without the time). */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    write: (l) => void lines.push(l.replace(/^\S+ \S+ \+\d+ /, '').trimEnd()),
    now: () => 0,
    minLevel: 'debug',
  });
  return { logger, lines };
}

/** A capture the test feeds: every emitBatch() is one batch, delivered synchronously. */
export class FakeSource extends EventEmitter<LiveCaptureEvents> implements PacketSource {
  dropped = 0;
  closed = false;

  constructor(readonly linkType: number = LinkType.RAW) {
    super();
  }

  emitBatch(...packets: Uint8Array[]): void {
    this.emit(
      'batch',
      CaptureBatch.fromPackets(
        packets.map((data) => ({ data })),
        this.linkType,
      ),
    );
  }

  stats(): { dropped: number } {
    return { dropped: this.dropped };
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * A sender that keeps a copy of every packet it was handed; the next `failNext` packets fail
 * (counted under `errno`, as the raw sender counts what the kernel refused).
 */
export class FakeSink implements PacketSink {
  closed = false;
  readonly sent: Buffer[] = [];
  /** Packets per send() call. */
  readonly calls: number[] = [];
  failNext = 0;
  errno = 'EPERM';
  private readonly c: SendCounters = { packets: 0, sent: 0, retriedSent: 0, failed: 0, queued: 0, errors: {} };

  constructor(private readonly events: string[] = []) {}

  send(packets: PackedPackets): boolean {
    this.calls.push(packets.count);
    this.events.push(`send ${packets.count}`);
    let ok = true;
    for (const p of packets.packets()) {
      this.c.packets++;
      if (this.failNext > 0) {
        this.failNext--;
        this.c.failed++;
        this.c.errors[this.errno] = (this.c.errors[this.errno] ?? 0) + 1;
        ok = false;
      } else {
        this.c.sent++;
        this.sent.push(Buffer.from(p));
      }
    }
    return ok;
  }

  counters(): SendCounters {
    return { ...this.c, errors: { ...this.c.errors } };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** tcpcopy's end of the channel: records registrations; the test connects it and delivers replies. */
export class FakeChannelClient implements RegistrationClient {
  authenticatedConnections = 0;
  started = false;
  closed = false;
  readonly registered: SessionKey[] = [];
  readonly unregistered: SessionKey[] = [];

  constructor(
    readonly options: ChannelClientOptions,
    private readonly events: string[] = [],
  ) {}

  start(): void {
    this.started = true;
  }

  register(session: SessionKey): void {
    this.registered.push({ ...session });
    this.events.push(`register ${session.clientPort}`);
  }

  unregister(session: SessionKey): void {
    this.unregistered.push({ ...session });
    this.events.push(`unregister ${session.clientPort}`);
  }

  /** Connections whose intercept forwards reply payloads (the test sets it). */
  payloadConnections = 0;

  wantPayload(session: SessionKey, maxBytes: number): void {
    this.events.push(`want payload ${session.clientPort} ${maxBytes}`);
  }

  flush(): void {
    this.events.push('flush');
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** n channel connections are up now (0: every intercept lost). */
  connections(n: number): void {
    this.authenticatedConnections = n;
    this.options.onConnectionsChange?.(n);
  }

  /** A reply intercept relayed. */
  reply(r: ResponseMessage): void {
    this.options.onResponse?.(r);
  }
}

/** One tcpcopy connection to the fake intercept end: what it was sent. */
export interface FakePeer {
  readonly name: string;
  readonly received: ResponseMessage[];
  readonly notices: string[];
  /** false: its socket refuses writes (counted as a send failure, as the real end does). */
  writable: boolean;
}

/**
 * intercept's end of the channel over the real RoutingTable: tcpcopy connections, their
 * registrations and their loss are played by the test (connect, register, disconnect).
 */
export class FakeReplyRouter implements ReplyRouter {
  readonly routing = new RoutingTable<FakePeer>();
  readonly stats = { sendFailures: 0, refused: 0 };
  listening = false;
  closed = false;
  /** Throws on sendResponse while set (a broken end). */
  failWith: Error | null = null;
  private readonly peers = new Set<FakePeer>();

  constructor(
    private readonly onRegister: (session: SessionKey) => void,
    private readonly nowMs: () => number,
  ) {}

  get wantsPayloads(): boolean {
    return this.routing.wantsPayloads;
  }

  get peerCount(): number {
    return this.peers.size;
  }

  listen(): Promise<AddressInfo> {
    this.listening = true;
    return Promise.resolve({ address: '0.0.0.0', family: 'IPv4', port: 36524 });
  }

  sendResponse(reply: ResponseMessage): RouteResult<FakePeer> {
    if (this.failWith !== null) throw this.failWith;
    const r = this.routing.route(reply, this.nowMs());
    if (r.kind !== 'routed') return r;
    // As the real end: payload only to a session that asked, at most what it asked for.
    const payload = reply.payload;
    this.deliver(
      r.connection,
      payload === undefined
        ? reply
        : { ...reply, payload: r.payloadBytes === 0 ? undefined : payload.subarray(0, r.payloadBytes) },
    );
    return r;
  }

  notify(code: number, message: string): number {
    for (const p of this.peers) p.notices.push(`${code} ${message}`);
    return this.peers.size;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  connect(name: string): FakePeer {
    const p: FakePeer = { name, received: [], notices: [], writable: true };
    this.peers.add(p);
    return p;
  }

  register(p: FakePeer, session: SessionKey): void {
    for (const r of this.routing.register(session, p, this.nowMs())) this.deliver(p, r);
    this.onRegister(session);
  }

  /** The connection asks for the first `maxBytes` of the session's reply payloads (PAYLOAD_WANT). */
  wantPayload(p: FakePeer, session: SessionKey, maxBytes: number): void {
    this.routing.wantPayload(session, p, maxBytes);
  }

  /** The connection is gone: its routes with it. */
  disconnect(p: FakePeer): void {
    this.peers.delete(p);
    this.routing.removeConnection(p);
  }

  private deliver(p: FakePeer, reply: ResponseMessage): void {
    if (p.writable) p.received.push(reply);
    else this.stats.sendFailures++;
  }
}

/** Asserts the named counters, and only those, have the expected values (one diff for all). */
export function assertCounters<T extends object>(actual: T, expected: Partial<T>, message?: string): void {
  const seen = Object.fromEntries(Object.keys(expected).map((k) => [k, actual[k as keyof T]]));
  assert.deepEqual(seen, expected, message);
}
