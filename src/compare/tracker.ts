// The comparison's view of every replicated session, by its 4-tuple towards the target: the client's
// segments (as copied), the online server's segments to that client, what tcpcopy sent to the target
// and the target's replies relayed by intercept (a prefix of each payload). It puts each direction
// in order (sequence numbers; retransmitted bytes once, unseen bytes as a gap) and feeds the
// session's exchanges, whose results go to the report. Pure: every input carries its time.
import { sessionKeyString } from '../packet/index.js';
import type { SessionKey } from '../packet/index.js';
import { SessionExchanges } from './exchanges.js';
import type { ExchangeOptions } from './exchanges.js';
import { CompareReport } from './report.js';
import type { ExchangeResult } from './report.js';

/** Sessions tracked at once; past it the oldest is finished early. */
export const MAX_TRACKED_SESSIONS = 65_536;
/** Segments kept for a connection that reuses a live session's 4-tuple, until the engine opens it. */
export const MAX_HELD_SEGMENTS = 4096;

interface HeldSegment {
  readonly online: boolean;
  readonly seq: number;
  readonly flags: number;
  readonly payload: Uint8Array;
  readonly capturedMs: number;
}

const SYN = 0x02;
const FIN = 0x01;
const RST = 0x04;
const ACK = 0x10;

/** Puts one direction's bytes in order: the next expected sequence number, learned from SYN or the first data. */
class Cursor {
  private next = -1;
  ended = false;

  /** A SYN (or SYN-ACK) with this sequence number: the stream starts after it. */
  syn(seq: number): void {
    if (this.next < 0) this.next = (seq + 1) >>> 0;
  }

  /** What the last take() found: unseen bytes before, the fresh bytes carried (null: none), unseen after. */
  gapBefore = 0;
  fresh: Uint8Array | null = null;
  gapAfter = 0;

  /**
   * A segment of `length` bytes at `seq` (`data`: its first bytes, maybe fewer than length): sets
   * gapBefore, fresh and gapAfter (no callback, no object per segment). Returns false when nothing is new.
   */
  take(seq: number, length: number, data: Uint8Array | undefined): boolean {
    this.gapBefore = 0;
    this.fresh = null;
    this.gapAfter = 0;
    if (length === 0) return false;
    if (this.next < 0) this.next = seq;
    const behind = ((seq - this.next) | 0) < 0 ? (this.next - seq) >>> 0 : 0;
    const ahead = behind === 0 ? (seq - this.next) >>> 0 : 0;
    if (ahead > 1 << 30) return false; // not this stream's numbering
    this.gapBefore = ahead;
    if (behind >= length) return ahead > 0;
    const have = data === undefined ? 0 : Math.min(data.length, length);
    if (have > behind && data !== undefined) this.fresh = data.subarray(behind, have);
    this.gapAfter = length - Math.max(have, behind);
    this.next = (seq + length) >>> 0;
    return true;
  }

  /** Offset of `seqEnd` past the stream's start (-1 when the start is unknown). */
  offsetOf(start: number, seqEnd: number): number {
    return start < 0 ? -1 : (seqEnd - start) >>> 0;
  }
}

interface Tracked {
  readonly ex: SessionExchanges;
  readonly report: CompareReport;
  readonly client: Cursor;
  readonly online: Cursor;
  readonly target: Cursor;
  /** The client stream's first sequence number (-1: not known yet). */
  clientStart: number;
  /**
   * A new connection of the client on this 4-tuple (a SYN of another ISN) while this one still
   * replays: the engine holds its packets until this session ends, so do we (client and online
   * segments, in capture order), for the session open() makes next.
   */
  next: HeldSegment[] | null;
}

/** One TCP segment as the tracker reads it. */
export interface TrackedSegment {
  readonly seq: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** `ip:port`, or `[ip6]:port`. */
export function targetName(key: SessionKey): string {
  return key.family === 6 ? `[${key.targetIp}]:${key.targetPort}` : `${key.targetIp}:${key.targetPort}`;
}

export class CompareTracker {
  /** One report per target (`ip:port`), in the order their first sessions opened. */
  readonly reports = new Map<string, CompareReport>();
  private readonly sessions = new Map<string, Tracked>();
  /** Held segments of a closed session's next connection, until the engine opens it (bounded). */
  private readonly heldNext = new Map<string, HeldSegment[]>();

  /** `onResult`: every result as it comes, with its session's target (`ip:port`, `[ip6]:port`). */
  constructor(
    private readonly opts: ExchangeOptions,
    private readonly onResult?: (target: string, r: ExchangeResult) => void,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The report of `target` (`ip:port`), created empty when it has none yet. */
  reportFor(target: string): CompareReport {
    let r = this.reports.get(target);
    if (r === undefined) {
      r = new CompareReport();
      this.reports.set(target, r);
    }
    return r;
  }

  /** A session the engine opened (before its SYN reaches client()). */
  open(key: SessionKey): void {
    const k = sessionKeyString(key);
    const target = targetName(key);
    const report = this.reportFor(target);
    if (this.sessions.has(k)) this.close(key, 0);
    const held = this.heldNext.get(k) ?? null;
    this.heldNext.delete(k);
    if (this.sessions.size >= MAX_TRACKED_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.finishKey(oldest);
    }
    this.sessions.set(k, {
      ex: new SessionExchanges(this.opts, (r) => {
        report.add(r);
        this.onResult?.(target, r);
      }),
      report,
      client: new Cursor(),
      online: new Cursor(),
      target: new Cursor(),
      clientStart: -1,
      next: null,
    });
    if (held !== null) {
      for (const h of held) {
        const seg = { seq: h.seq, flags: h.flags, payload: h.payload };
        if (h.online) this.online(key, seg, h.capturedMs);
        else this.client(key, seg, h.capturedMs);
      }
    }
  }

  /** A client segment of the session (capture time). */
  client(key: SessionKey, seg: TrackedSegment, capturedMs: number): void {
    const t = this.sessions.get(sessionKeyString(key));
    if (t === undefined) return;
    const isNew = (seg.flags & SYN) !== 0 && t.clientStart >= 0 && (seg.seq + 1) >>> 0 !== t.clientStart;
    if (t.next !== null || isNew) return this.hold(t, false, seg, capturedMs);
    if ((seg.flags & SYN) !== 0) {
      t.client.syn(seg.seq);
      if (t.clientStart < 0) t.clientStart = (seg.seq + 1) >>> 0;
      return;
    }
    if (t.clientStart < 0 && seg.payload.length > 0) t.clientStart = seg.seq;
    const c = t.client;
    if (!c.take(seg.seq, seg.payload.length, seg.payload)) return;
    if (c.gapBefore > 0) t.ex.clientGap(c.gapBefore, capturedMs);
    if (c.fresh !== null) t.ex.clientBytes(c.fresh, capturedMs);
    if (c.gapAfter > 0) t.ex.clientGap(c.gapAfter, capturedMs);
  }

  /** A segment of the online server to the session's client (capture time). */
  online(key: SessionKey, seg: TrackedSegment, capturedMs: number): void {
    const t = this.sessions.get(sessionKeyString(key));
    if (t === undefined) return;
    if (t.next !== null) return this.hold(t, true, seg, capturedMs);
    if ((seg.flags & SYN) !== 0) {
      t.online.syn(seg.seq);
      return;
    }
    const o = t.online;
    if (o.take(seg.seq, seg.payload.length, seg.payload)) {
      if (o.gapBefore > 0) t.ex.onlineGap(o.gapBefore, capturedMs);
      if (o.fresh !== null) t.ex.onlineBytes(o.fresh, capturedMs);
      if (o.gapAfter > 0) t.ex.onlineGap(o.gapAfter, capturedMs);
    }
    if ((seg.flags & (FIN | RST)) !== 0 && !t.online.ended) {
      t.online.ended = true;
      t.ex.onlineEnd(capturedMs);
    }
  }

  /** tcpcopy sent the session's client bytes up to `seqEnd` (exclusive) to the target. */
  sent(key: SessionKey, seqEnd: number, nowMs: number): void {
    const t = this.sessions.get(sessionKeyString(key));
    if (t === undefined || t.clientStart < 0) return;
    const off = t.client.offsetOf(t.clientStart, seqEnd);
    if (off < 1 << 30) t.ex.sentUpTo(off, nowMs);
  }

  /**
   * A target reply relayed by intercept: `payloadLength` bytes at `seq`, `prefix` the first of them;
   * `ack` its acknowledgement number (how much of the client stream the target had received).
   */
  target(
    key: SessionKey,
    seq: number,
    ack: number,
    flags: number,
    payloadLength: number,
    prefix: Uint8Array | undefined,
    nowMs: number,
  ): void {
    const t = this.sessions.get(sessionKeyString(key));
    if (t === undefined) return;
    if ((flags & SYN) !== 0) {
      t.target.syn(seq);
      return;
    }
    const acked = t.clientStart < 0 || (flags & ACK) === 0 ? -1 : (ack - t.clientStart) | 0;
    const ackOffset = acked < 0 ? Number.MAX_SAFE_INTEGER : acked;
    const g = t.target;
    if (g.take(seq, payloadLength, prefix)) {
      if (g.gapBefore > 0) t.ex.targetGap(g.gapBefore, nowMs, ackOffset);
      if (g.fresh !== null) t.ex.targetBytes(g.fresh, nowMs, ackOffset);
      if (g.gapAfter > 0) t.ex.targetGap(g.gapAfter, nowMs, ackOffset);
    }
    if (acked >= 0) t.ex.targetAck(acked);
    if ((flags & (FIN | RST)) !== 0 && !t.target.ended) {
      t.target.ended = true;
      t.ex.targetEnd(nowMs);
    }
  }

  /** The engine closed the session: its open exchanges are reported. */
  close(key: SessionKey, nowMs: number): void {
    const k = sessionKeyString(key);
    const t = this.sessions.get(k);
    if (t === undefined) return;
    if (!t.target.ended) t.ex.targetEnd(nowMs);
    this.finishKey(k);
  }

  private hold(t: Tracked, online: boolean, seg: TrackedSegment, capturedMs: number): void {
    t.next ??= [];
    if (t.next.length >= MAX_HELD_SEGMENTS) return;
    const payload = Uint8Array.prototype.slice.call(seg.payload);
    t.next.push({ online, seq: seg.seq, flags: seg.flags, payload, capturedMs });
  }

  /** Reports every open session (tcpcopy stops). */
  finishAll(): void {
    for (const k of [...this.sessions.keys()]) this.finishKey(k, true);
  }

  private finishKey(k: string, atExit = false): void {
    const t = this.sessions.get(k);
    if (t === undefined) return;
    this.sessions.delete(k);
    if (t.next !== null) {
      if (this.heldNext.size >= MAX_HELD_SEGMENTS) {
        const oldest = this.heldNext.keys().next().value;
        if (oldest !== undefined) this.heldNext.delete(oldest);
      }
      this.heldNext.set(k, t.next);
    }
    if (!t.ex.compared) t.report.notCompared++;
    t.ex.finish(atExit);
  }
}
