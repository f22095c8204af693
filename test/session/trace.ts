// Test helpers: build client segments and target headers, collect the engine's output, and name
// the addresses of one scripted session (client 10.77.1.1:40000 → online :80 → target :8080).

import { TcpFlags } from '../../src/packet/index.js';
import { SessionEngine } from '../../src/session/index.js';
import type {
  ClientSegment,
  CloseReason,
  OutgoingSegment,
  SessionOptions,
  StreamTransformFactory,
  TargetHeader,
  TcpOptionValues,
} from '../../src/session/index.js';
import type { SessionKey } from '../../src/packet/index.js';

export const { FIN, SYN, RST, PSH, ACK } = TcpFlags;
export const CLIENT = '10.77.1.1';
export const CPORT = 40000;
export const ONLINE = '10.77.0.2';
export const TARGET = '10.77.0.3';
export const TPORT = 8080;

/** A kept copy of what the engine emits (it rewrites the object it passes for the next packet). */
export function copySegment(s: OutgoingSegment): OutgoingSegment {
  return { ...s, options: s.options.map((o) => ({ ...o })), payload: Buffer.from(s.payload) };
}

export function opts(o: Partial<TcpOptionValues> = {}): TcpOptionValues {
  return { mss: -1, windowScale: -1, sackPermitted: false, hasTimestamps: false, tsval: 0, tsecr: 0, ...o };
}

export function clt(
  seq: number,
  ack: number,
  flags: number,
  payload: string | Buffer = '',
  o: Partial<TcpOptionValues> = {},
  srcPort = CPORT,
): ClientSegment {
  return {
    family: 4,
    src: CLIENT,
    srcPort,
    dst: ONLINE,
    dstPort: 80,
    seq,
    ack,
    flags,
    window: 502,
    options: opts(o),
    payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
  };
}

export function tgt(
  seq: number,
  ack: number,
  flags: number,
  payloadLength = 0,
  o: Partial<TcpOptionValues> = {},
  window = 512,
): TargetHeader {
  return {
    src: TARGET,
    srcPort: TPORT,
    dst: CLIENT,
    dstPort: CPORT,
    seq,
    ack,
    flags,
    window,
    options: opts(o),
    payloadLength,
  };
}

/** What a test asserts about one outgoing segment. */
export interface Seg {
  seq: number;
  ack: number;
  flags: number;
  data: string;
}

export class Harness {
  readonly out: OutgoingSegment[] = [];
  readonly registered: SessionKey[] = [];
  readonly closed: CloseReason[] = [];
  /** Reply payload wishes told to the sink: `port bytes`. */
  readonly payloadWishes: string[] = [];
  readonly engine: SessionEngine;

  constructor(o: Partial<SessionOptions> = {}, transforms: StreamTransformFactory | null = null) {
    this.engine = new SessionEngine(
      (ip, port) => (ip === ONLINE && port === 80 ? { ip: TARGET, port: TPORT } : undefined),
      {
        sendSegment: (s) => {
          this.out.push(copySegment(s));
        },
        registerSession: (t) => {
          this.registered.push(t);
        },
        wantReplyPayload: (t, bytes) => {
          this.payloadWishes.push(`${t.clientPort} ${bytes}`);
        },
        sessionClosed: (_t, r) => {
          this.closed.push(r);
        },
      },
      o,
      transforms,
    );
  }

  client(now: number, pkt: ClientSegment): Seg[] {
    this.engine.onClientPacket(now, pkt);
    return this.take();
  }

  target(now: number, hdr: TargetHeader): Seg[] {
    this.engine.onTargetResponse(now, hdr);
    return this.take();
  }

  timer(now: number): Seg[] {
    this.engine.onTimer(now);
    return this.take();
  }

  /** Runs every timer due up to `until`, in order (bounded). */
  runUntil(until: number): Seg[] {
    const got: Seg[] = [];
    for (let i = 0; i < 10_000; i++) {
      const d = this.engine.nextDeadlineMs();
      if (d < 0 || d > until) break;
      got.push(...this.timer(d));
    }
    return got;
  }

  /** Segments sent since the last call, reduced to what tests compare. */
  take(): Seg[] {
    const segs = this.out
      .splice(0)
      .map((s) => ({ seq: s.seq, ack: s.ack, flags: s.flags, data: s.payload.toString() }));
    return segs;
  }

  get counters(): SessionEngine['counters'] {
    return this.engine.counters;
  }

  /** Client SYN (ISN 1000) + target SYN-ACK (ISN 9000) + client's handshake ACK (online ISN 5000). */
  handshake(synAck: Partial<TcpOptionValues> = { mss: 1460, windowScale: 7 }, window = 512): void {
    this.client(0, clt(1000, 0, SYN, '', { mss: 1460, windowScale: 7 }));
    this.target(1, tgt(9000, 1001, SYN | ACK, 0, synAck, window));
    this.client(1, clt(1001, 5001, ACK));
    this.take();
  }
}

export function seg(seq: number, ack: number, flags: number, data = ''): Seg {
  return { seq, ack, flags, data };
}
