// One replayed session: a TCP client emulation driven by explicit events and a given time.
// Client segments come from the capture (the client's sequence space is kept); target reply headers
// come from intercept; segments to the target go to the sink. See README.md for states and pacing.

import { TcpFlags } from '../packet/index.js';
import type { TcpOption } from '../packet/index.js';
import type { SessionCounters } from './counters.js';
import { Deque } from './deque.js';
import { Reassembler, ownCopy } from './reassembly.js';
import type { StreamChunk } from './reassembly.js';
import { seqAdd, seqDiff, seqMax } from './seq.js';
import { RttEstimator } from './rtt.js';
import { ResponsePacer } from './pacer.js';
import { Timer } from './timer.js';
import type {
  ClientSegment,
  CloseReason,
  EngineSink,
  Mutable,
  OutgoingSegment,
  SessionOptions,
  StreamTransform,
  TargetHeader,
} from './types.js';
import type { SessionKey } from '../packet/index.js';

/**
 * The connection to the target, named as TCP names it from the client's side:
 * - SYN_SENT: our SYN (the captured or a synthesized one) is out; no acceptable SYN-ACK yet.
 * - ESTABLISHED: both directions open; captured requests are replayed as the pacer allows.
 * - CLOSE_WAIT: the target closed its side (its FIN is acknowledged); what remains of the captured
 *   client stream is still sent, and the session finishes once all of it is acknowledged.
 * - CLOSED: finished, reset or timed out (`closeReason` says which); every input is ignored.
 * A connection the target reset before it saw a byte goes back from ESTABLISHED to SYN_SENT (the
 * same SYN again, at most maxHandshakeRestarts times).
 */
export type SessionState = 'SYN_SENT' | 'ESTABLISHED' | 'CLOSE_WAIT' | 'CLOSED';

/**
 * What the captured client did to its connection:
 * - OPEN: nothing final yet (a client FIN is part of the stream and replayed in order).
 * - RESET: the client reset; the bytes it sent before the RST are still replayed (drained), then
 *   the target is reset — at once when nothing is left to send.
 */
export type ClientSide = 'OPEN' | 'RESET';

const { FIN, SYN, RST, PSH, ACK } = TcpFlags;
/** The payload of every segment without data (shared, never written). */
const EMPTY: Buffer = Buffer.alloc(0);
/** Shared option values: the NOP padding and the empty list of a segment without options. */
const NOP: TcpOption = Object.freeze({ kind: 'nop' });
const NO_OPTIONS: readonly TcpOption[] = Object.freeze([]);
/** TCP header without options; IPv4 header without options; IPv6 header without extensions. */
const TCP_HEADER_BYTES = 20;
const IPV4_HEADER_BYTES = 20;
const IPV6_HEADER_BYTES = 40;
/** What `emit` adds to every segment when timestamps are on: NOP, NOP, timestamps (10). */
const TIMESTAMP_OPTION_BYTES = 12;

/**
 * The segment `emit` hands to the sink: one object (and one timestamp option) rewritten for every
 * packet of every session — the sink copies what it needs during the call (EngineSink.sendSegment).
 */
const TS_OPTION: { kind: 'timestamps'; tsval: number; tsecr: number } = { kind: 'timestamps', tsval: 0, tsecr: 0 };
const TS_OPTIONS: readonly TcpOption[] = Object.freeze([NOP, NOP, TS_OPTION]);
const OUT: Mutable<OutgoingSegment> = {
  family: 4,
  src: '',
  srcPort: 0,
  dst: '',
  dstPort: 0,
  seq: 0,
  ack: 0,
  flags: 0,
  window: 0,
  options: NO_OPTIONS,
  payload: EMPTY,
};

export class Session {
  state: SessionState = 'SYN_SENT';
  client: ClientSide = 'OPEN';
  closeReason: CloseReason | null = null;
  /** The client's initial sequence number (captured or synthesized). */
  readonly clientIsn: number;

  private readonly stream: Reassembler;
  /** Chunks not yet acknowledged by the target, oldest first (O(1) at both ends: deque.ts). */
  private readonly chunks = new Deque<StreamChunk>();
  /** What the last chunkAt() found: the chunk and the offset of the sequence number inside it. */
  private found: StreamChunk | null = null;
  private foundOffset = 0;
  /** Index in `chunks` of `found` (a hint for the next search; kept in step when chunks are shifted). */
  private foundIndex = 0;
  private streamEnd: number;
  private sndUna: number;
  private sndNxt: number;
  private sndWnd = 0;
  /** 2^(the target's window scale): its window field times this is its window in bytes. */
  private sndWndFactor = 1;
  private targetMss = 536;
  private rcvNxt = 0;
  private lastAckSent = 0;
  private unackedResponseSegs = 0;

  private readonly tsOffered: boolean;
  private tsEnabled = false;
  private tsLast: number;
  private tsRecent = 0;
  private readonly synMss: number;

  /** When the next captured request may go (pacer.ts). */
  private readonly pacer: ResponsePacer;

  private rto: number;
  private readonly rtt: RttEstimator;
  /** RTT timing of one segment in flight (Karn: cancelled by any retransmission). */
  private rttTiming = false;
  private rttSeq = 0;
  private rttStartMs = 0;
  /** Retransmission (RFC 6298; the SYN's too), zero-window probe, delayed ACK, handshake give-up. */
  private readonly rtoTimer = new Timer();
  private readonly persistTimer = new Timer();
  private readonly ackTimer = new Timer();
  private readonly handshakeTimer = new Timer();
  private dupAcks = 0;
  private lastAckSeen = 0;
  private lastWindowSeen = -1;

  /** The target's ISN + 1 of the current connection (set by the SYN-ACK). */
  private targetIsnNext = 0;
  private restarts = 0;
  private everEstablished = false;
  private lastClientMs: number;
  private lastTargetMs: number;

  constructor(
    readonly tuple: SessionKey,
    first: ClientSegment,
    nowMs: number,
    private readonly opts: SessionOptions,
    private readonly counters: SessionCounters,
    private readonly sink: EngineSink,
    transform: StreamTransform | null = null,
  ) {
    // One field, null for a plain session: its own object only where there is a transform.
    this.tx = transform === null ? null : { transform, emit: (c) => this.append(c), payloadAsked: 0 };
    const synthesized = (first.flags & SYN) === 0;
    this.clientIsn = synthesized ? seqAdd(first.seq, -1) : first.seq;
    this.stream = new Reassembler(seqAdd(this.clientIsn, 1));
    this.sndUna = this.clientIsn;
    this.sndNxt = seqAdd(this.clientIsn, 1);
    this.streamEnd = this.sndNxt;
    this.tsOffered = first.options.hasTimestamps;
    this.tsLast = first.options.tsval;
    this.synMss = first.options.mss > 0 ? first.options.mss : opts.defaultMss;
    // A joined session has no handshake to learn the online server's position from: its first
    // request is never held (no greeting to wait for).
    this.pacer = new ResponsePacer(nowMs, synthesized && (first.flags & ACK) !== 0 ? first.ack : null);
    this.handshakeTimer.arm(nowMs + opts.handshakeTimeoutMs);
    this.lastClientMs = nowMs;
    this.lastTargetMs = nowMs;
    this.rtt = new RttEstimator(opts.initialRtoMs, opts.minRtoMs, opts.maxRtoMs);
    this.rto = this.rtt.rtoMs();
    if (synthesized) counters.reconnectNoSyn++;
    sink.registerSession(tuple);
    this.askReplyPayload();
    this.sendSyn(nowMs);
    if (synthesized) this.onClientPacket(nowMs, first);
  }

  // ---- inputs ---------------------------------------------------------------------------------

  onClientPacket(nowMs: number, pkt: ClientSegment): void {
    if (this.state === 'CLOSED') return;
    this.lastClientMs = nowMs;
    if (pkt.options.hasTimestamps) this.tsLast = seqMax(this.tsLast, pkt.options.tsval);
    if ((pkt.flags & SYN) !== 0) return; // a retransmitted SYN: ours is already out
    if ((pkt.flags & RST) !== 0) {
      this.client = 'RESET';
      this.pump(nowMs);
      this.maybeFinish(nowMs);
      return;
    }
    const hasAck = (pkt.flags & ACK) !== 0;
    if (hasAck) this.pacer.learnBase(pkt.ack);
    const fin = (pkt.flags & FIN) !== 0;
    if (pkt.payload.length === 0 && !fin) return;
    const payload = pkt.payload; // copied by the reassembler when kept
    if (pkt.payload.length > 0 && this.bufferedBytes() + pkt.payload.length > this.opts.maxBufferedBytes) {
      this.counters.bufferOverflow++;
      return;
    }
    const r = this.stream.insert(pkt.seq, payload, fin, hasAck ? pkt.ack : this.pacer.baseAck, nowMs, this.appendChunk);
    if (r === 'duplicate' || r === 'overlap') this.counters.clientRetransmit++;
    this.pump(nowMs);
    this.maybeFinish(nowMs);
  }

  /** A packet of the online server to this session's client, for the stream transform. */
  onOnlineReply(nowMs: number, payload: Uint8Array): void {
    const tx = this.tx;
    if (this.state === 'CLOSED' || tx === null || tx.transform.onlineReply === undefined) return;
    tx.transform.onlineReply(payload, tx.emit);
    this.afterTransform(nowMs);
  }

  /** The transform may emit what it held for something outside the session (SessionEngine.resume). */
  resumeTransform(nowMs: number): void {
    const tx = this.tx;
    if (this.state === 'CLOSED' || tx === null || tx.transform.resume === undefined) return;
    tx.transform.resume(tx.emit, nowMs);
    this.afterTransform(nowMs);
  }

  private afterTransform(nowMs: number): void {
    this.askReplyPayload();
    this.pump(nowMs);
    this.maybeFinish(nowMs);
  }

  onTargetResponse(nowMs: number, hdr: TargetHeader): void {
    if (this.state === 'CLOSED') return;
    this.lastTargetMs = nowMs;
    this.counters.resp++;
    if (hdr.payloadLength > 0) this.counters.respContent++;
    if ((hdr.flags & RST) !== 0) {
      if (!this.acceptableRst(hdr)) {
        this.counters.staleRst++;
        return;
      }
      this.counters.respRst++;
      if (this.state === 'ESTABLISHED' && this.targetSawNothing() && this.restarts < this.opts.maxHandshakeRestarts) {
        this.restartHandshake(nowMs);
        return;
      }
      this.close(nowMs, 'targetReset', false);
      return;
    }
    if (hdr.options.hasTimestamps && this.tsEnabled) this.tsRecent = seqMax(this.tsRecent, hdr.options.tsval);
    if (this.state === 'SYN_SENT') {
      this.onSynAckCandidate(nowMs, hdr);
      return;
    }
    if ((hdr.flags & SYN) !== 0) {
      this.sendAck(); // our handshake ACK was lost: the target repeats its SYN-ACK
      return;
    }
    if ((hdr.flags & ACK) !== 0) this.onAck(nowMs, hdr);
    let ackNow = false;
    let reAck = false;
    const fin = (hdr.flags & FIN) !== 0;
    if (hdr.payloadLength > 0 || fin) {
      const end = seqAdd(hdr.seq, hdr.payloadLength);
      const fresh = seqDiff(end, this.rcvNxt);
      const tx = this.tx;
      if (fresh > 0 && tx !== null && hdr.payloadLength > 0) {
        tx.transform.targetReply(hdr.payload, hdr.payloadLength, hdr.seq === this.rcvNxt, tx.emit, fresh);
        this.askReplyPayload();
      }
      if (fresh > 0) {
        // It starts with bytes we already had: a retransmission that also brings new ones (while the
        // target's stream is open; after its FIN no byte is a retransmission).
        const resent = this.state === 'ESTABLISHED' && seqDiff(this.rcvNxt, hdr.seq) > 0;
        // Bytes intercept never saw were still sent by the target: acknowledge them too.
        this.rcvNxt = end;
        this.pacer.onResponse(fresh, (hdr.flags & PSH) !== 0);
        this.unackedResponseSegs++;
        // Every second segment is acknowledged at once (RFC 9293 3.8.6.3), counted in bytes too:
        // intercept folds back-to-back segments into one reply, so more than one full segment's
        // worth unacknowledged is at least two segments. A retransmission is acknowledged at once
        // (the target waits for it). The end of a small response (PSH) waits up to delayedAckMs for
        // the next request to carry the acknowledgement, as a real client in an interactive
        // exchange does: one packet per keep-alive request, not two.
        if (this.unackedResponseSegs >= 2 || resent || seqDiff(this.rcvNxt, this.lastAckSent) > this.synMss)
          ackNow = true;
      } else if (hdr.payloadLength > 0) {
        reAck = true; // a retransmission: our ACK was lost
      }
      if (fin && seqDiff(end, this.rcvNxt) === 0 && this.state === 'ESTABLISHED') {
        this.state = 'CLOSE_WAIT';
        this.counters.respFin++;
        this.rcvNxt = seqAdd(this.rcvNxt, 1);
        this.pacer.onResponse(0, true);
        ackNow = true;
      }
    }
    this.pump(nowMs); // a request sent now carries the acknowledgement
    if (seqDiff(this.rcvNxt, this.lastAckSent) !== 0) {
      if (ackNow) this.sendAck();
      else this.ackTimer.armIfIdle(nowMs + this.opts.delayedAckMs);
    } else if (reAck) {
      this.sendAck();
    }
    this.maybeFinish(nowMs);
  }

  onTimer(nowMs: number): void {
    if (this.state === 'CLOSED') return;
    if (this.state === 'SYN_SENT' && this.handshakeTimer.isDue(nowMs)) {
      this.counters.obsoleteDeleted++;
      this.close(nowMs, 'handshakeTimeout', true);
      return;
    }
    if (this.hasWork()) {
      if (nowMs >= this.lastTargetMs + this.opts.sessionTimeoutMs) {
        this.counters.obsoleteDeleted++;
        this.close(nowMs, 'sessionTimeout', true);
        return;
      }
    } else if (nowMs >= Math.max(this.lastClientMs, this.lastTargetMs) + this.opts.keepaliveTimeoutMs) {
      this.counters.obsoleteDeleted++;
      this.close(nowMs, 'keepaliveTimeout', true);
      return;
    }
    if (nowMs >= this.stream.gapDeadlineMs(this.opts.captureGapWaitMs)) {
      this.stream.skipGap(nowMs, this.appendChunk);
      this.counters.captureGapSkipped++;
    }
    if (this.rtoTimer.isDue(nowMs)) {
      this.retransmit();
      this.rto = Math.min(this.rto * 2, this.opts.maxRtoMs);
      this.rtoTimer.arm(nowMs + this.rto);
    }
    if (this.persistTimer.isDue(nowMs)) {
      this.persistTimer.arm(nowMs + this.rto);
      // A zero-window probe: one old sequence number, answered by an ACK with the current window.
      this.emit(seqAdd(this.sndNxt, -1), ACK, EMPTY, false);
    }
    if (this.ackTimer.isDue(nowMs)) this.sendAck();
    const tx = this.tx;
    if (tx !== null && (tx.transform.deadlineMs ?? Infinity) <= nowMs) {
      tx.transform.resume?.(tx.emit, nowMs);
      this.askReplyPayload();
    }
    this.pump(nowMs);
    this.maybeFinish(nowMs);
  }

  /** The earliest time `onTimer` has something to do; +Infinity when nothing will be due. */
  nextDeadlineMs(): number {
    if (this.state === 'CLOSED') return Infinity;
    if (this.state === 'SYN_SENT') return Math.min(this.handshakeTimer.at, this.rtoTimer.at);
    let d = this.hasWork()
      ? this.lastTargetMs + this.opts.sessionTimeoutMs
      : Math.max(this.lastClientMs, this.lastTargetMs) + this.opts.keepaliveTimeoutMs;
    d = Math.min(
      d,
      this.stream.gapDeadlineMs(this.opts.captureGapWaitMs),
      this.rtoTimer.at,
      this.persistTimer.at,
      this.ackTimer.at,
      this.tx?.transform.deadlineMs ?? Infinity,
    );
    // The quiet-period fallback only matters once the request is acknowledged; before that the RTO is armed.
    if (this.sndUna === this.sndNxt && this.heldForResponse()) {
      d = Math.min(d, this.pacer.quietDeadline(this.lastTargetMs, this.opts.responseQuietMs));
    }
    return d;
  }

  /** Connected both ways, or the target closed its side: client bytes may still be sent. */
  private get synchronized(): boolean {
    return this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT';
  }

  // ---- handshake ------------------------------------------------------------------------------

  /**
   * RFC 793 §3.4 / RFC 5961 §3.2: in SYN_SENT an RST counts only if it acknowledges our SYN; once
   * established, only if its sequence number is within the receive window around rcvNxt. An RST
   * that answered a previous connection on this 4-tuple (Linux sends one per late segment) would
   * otherwise end the connection that replaced it.
   */
  private acceptableRst(hdr: TargetHeader): boolean {
    if (this.state === 'SYN_SENT') return (hdr.flags & ACK) !== 0 && hdr.ack === seqAdd(this.clientIsn, 1);
    const window = this.opts.advertisedWindow * 2 ** this.opts.advertisedWindowScale;
    return Math.abs(seqDiff(hdr.seq, this.rcvNxt)) <= window;
  }

  /**
   * The target reset the connection before it acknowledged any client byte or sent any: it had no
   * connection for our handshake ACK (a half-open connection dropped while tcpcopy was late, a
   * SYN-ACK answered by a SYN cookie and a request socket at once) and saw none of the request.
   */
  private targetSawNothing(): boolean {
    return (
      this.sndUna === seqAdd(this.clientIsn, 1) && this.rcvNxt === this.targetIsnNext && this.state === 'ESTABLISHED'
    );
  }

  /** Opens the connection again with the same SYN; the client's bytes are replayed from the start. */
  private restartHandshake(nowMs: number): void {
    this.restarts++;
    this.counters.handshakeRestarts++;
    this.state = 'SYN_SENT';
    this.sndUna = this.clientIsn;
    this.sndNxt = seqAdd(this.clientIsn, 1);
    this.sndWnd = 0;
    this.rcvNxt = 0;
    this.lastAckSent = 0;
    this.unackedResponseSegs = 0;
    this.tsEnabled = false;
    this.tsRecent = 0;
    this.rttTiming = false;
    this.rtoTimer.cancel();
    this.persistTimer.cancel();
    this.ackTimer.cancel();
    this.dupAcks = 0;
    this.lastAckSeen = 0;
    this.lastWindowSeen = -1;
    // Pacing is untouched: the first unacknowledged chunk is the request already let go, so it goes
    // again as soon as the new handshake completes.
    this.pacer.forgetResponse();
    this.rto = this.rtt.rtoMs();
    this.handshakeTimer.arm(nowMs + this.opts.handshakeTimeoutMs);
    this.sendSyn(nowMs);
  }

  private onSynAckCandidate(nowMs: number, hdr: TargetHeader): void {
    const synAck = SYN | ACK;
    if ((hdr.flags & synAck) !== synAck || hdr.ack !== seqAdd(this.clientIsn, 1)) {
      // The target still holds an older connection on this 4-tuple and answered our SYN with an
      // ACK of that one: reset it (RFC 793 reset generation); our SYN is retried by the RTO.
      if ((hdr.flags & (SYN | ACK)) === ACK) this.emit(hdr.ack, RST, EMPTY, false);
      return;
    }
    if (!this.everEstablished) this.counters.conns++;
    this.everEstablished = true;
    this.state = 'ESTABLISHED';
    this.sndUna = hdr.ack;
    this.rcvNxt = seqAdd(hdr.seq, 1);
    this.targetIsnNext = this.rcvNxt;
    this.targetMss = hdr.options.mss > 0 ? hdr.options.mss : 536;
    this.sndWndFactor = hdr.options.windowScale >= 0 ? 1 << Math.min(hdr.options.windowScale, 14) : 1;
    this.sndWnd = hdr.window; // the window in a SYN-ACK is never scaled
    this.lastAckSeen = hdr.ack;
    this.lastWindowSeen = hdr.window;
    this.tsEnabled = this.tsOffered && hdr.options.hasTimestamps;
    if (this.tsEnabled) this.tsRecent = hdr.options.tsval;
    if (this.rttTiming) this.rtt.sample(nowMs - this.rttStartMs);
    this.rttTiming = false;
    this.rtoTimer.cancel();
    this.handshakeTimer.cancel();
    this.rto = this.rtt.rtoMs();
    this.pacer.restart(nowMs);
    // The handshake's last ACK rides on the first data segment when there is one to send now (one
    // packet fewer per connection); otherwise it goes alone.
    this.pump(nowMs);
    if (seqDiff(this.rcvNxt, this.lastAckSent) !== 0) this.sendAck();
    this.maybeFinish(nowMs);
  }

  private sendSyn(nowMs: number): void {
    this.counters.sendSyn++;
    this.counters.send++;
    this.sendSynAgain();
    this.rtoTimer.arm(nowMs + this.rto);
    this.rttTiming = true;
    this.rttStartMs = nowMs;
  }

  /** The SYN as first sent (same ISN and options), uncounted: the caller counts or re-arms. */
  private sendSynAgain(): void {
    const options: TcpOption[] = [{ kind: 'mss', value: this.synMss }];
    if (this.tsOffered) options.push({ kind: 'timestamps', tsval: this.tsLast, tsecr: 0 });
    options.push({ kind: 'nop' }, { kind: 'wscale', shift: this.opts.advertisedWindowScale });
    this.sink.sendSegment({
      family: this.tuple.family,
      src: this.tuple.clientIp,
      srcPort: this.tuple.clientPort,
      dst: this.tuple.targetIp,
      dstPort: this.tuple.targetPort,
      seq: this.clientIsn,
      ack: 0,
      flags: SYN,
      window: this.opts.advertisedWindow,
      options,
      payload: EMPTY,
    });
  }

  // ---- sending --------------------------------------------------------------------------------

  /** `append` bound once (a closure per packet was an allocation per packet). */
  private readonly appendChunk = (c: StreamChunk): void => {
    if (this.tx === null) this.append(c);
    else this.tx.transform.clientChunk(c, this.tx.emit);
  };
  /** The stream transform (MySQL mode), what it emits goes to, and the reply payload bytes asked of intercept now. */
  private readonly tx: {
    readonly transform: StreamTransform;
    readonly emit: (c: StreamChunk) => void;
    payloadAsked: number;
  } | null;

  /** Tells intercept the transform's current wish for reply payloads, when it changed. */
  private askReplyPayload(): void {
    const tx = this.tx;
    if (tx === null) return;
    const want = tx.transform.replyPayloadBytes;
    if (want === tx.payloadAsked) return;
    tx.payloadAsked = want;
    this.sink.wantReplyPayload?.(this.tuple, want);
  }

  private append(c: StreamChunk): void {
    // Behind unsent bytes, or before the target's handshake, the chunk waits for as long as the
    // target is slow: a pooled copy would keep a whole pool slab alive (see ownCopy).
    if (c.data.length > 0 && (!this.synchronized || seqDiff(this.streamEnd, this.sndNxt) > 0)) c.data = ownCopy(c.data);
    this.chunks.push(c);
    this.streamEnd = seqAdd(c.seq, c.data.length + (c.fin ? 1 : 0));
  }

  /** Client bytes this session holds: sent and unacknowledged, unsent, and out of order. */
  bufferedBytes(): number {
    if (this.state === 'CLOSED') return 0;
    return (
      Math.max(0, seqDiff(this.streamEnd, this.sndUna)) + this.stream.heldBytes + (this.tx?.transform.heldBytes ?? 0)
    );
  }

  /**
   * When the oldest captured client byte not yet sent to the target was captured, or −1 when
   * everything captured has been sent (the replication lag is now − this).
   */
  oldestUnsentMs(): number {
    if (this.state === 'CLOSED') return -1;
    return this.chunkAt(this.sndNxt) ? this.found!.capturedMs : -1;
  }

  private hasWork(): boolean {
    return seqDiff(this.streamEnd, this.sndUna) > 0 || this.stream.hasGap || (this.tx?.transform.heldBytes ?? 0) > 0;
  }

  /**
   * Finds the chunk holding sequence number `seq`: true and `found`/`foundOffset` set (the offset of
   * `seq` inside it), or false. Fields, not a returned pair: this runs on every pump. The search
   * starts at the chunk found last (`foundIndex`), since sndNxt only moves forward; a sequence
   * number before that chunk (sndUna, a restarted handshake) is searched from the first chunk.
   */
  private chunkAt(seq: number): boolean {
    const chunks = this.chunks;
    let i = this.foundIndex < chunks.length ? this.foundIndex : 0;
    if (i > 0 && seqDiff(seq, chunks.at(i)!.seq) < 0) i = 0;
    for (; i < chunks.length; i++) {
      const chunk = chunks.at(i)!;
      const off = seqDiff(seq, chunk.seq);
      if (off >= 0 && off < chunk.data.length + (chunk.fin ? 1 : 0)) {
        this.found = chunk;
        this.foundOffset = off;
        this.foundIndex = i;
        return true;
      }
    }
    this.found = null;
    return false;
  }

  /** True when the next unsent chunk is a new request that must wait for the previous response. */
  private heldForResponse(): boolean {
    if (!this.opts.waitForResponse || !this.synchronized) return false;
    if (!this.chunkAt(this.sndNxt) || this.foundOffset !== 0) return false;
    return this.pacer.holds(this.found!.onlineAck);
  }

  /** The previous request is answered: every byte we sent is acknowledged, and the pacer agrees. */
  private answered(nowMs: number, next: StreamChunk): boolean {
    return (
      this.sndUna === this.sndNxt &&
      this.pacer.answered(nowMs, next.onlineAck, this.lastTargetMs, this.opts.responseQuietMs)
    );
  }

  private pump(nowMs: number): void {
    if (!this.synchronized) return;
    for (let guard = 0; guard < 1_000_000; guard++) {
      if (!this.chunkAt(this.sndNxt)) break;
      const chunk = this.found!;
      const offset = this.foundOffset;
      if (offset === 0 && this.pacer.holds(chunk.onlineAck)) {
        if (this.opts.waitForResponse && !this.answered(nowMs, chunk)) break;
        this.pacer.release(chunk.onlineAck, nowMs);
      } else if (offset === 0 && !this.pacer.knowsBase) {
        this.pacer.learnBase(chunk.onlineAck);
      }
      const remaining = chunk.data.length - Math.min(offset, chunk.data.length);
      if (remaining > 0) {
        const usable = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
        if (usable <= 0) {
          if (this.sndUna === this.sndNxt) this.persistTimer.armIfIdle(nowMs + this.rto);
          break;
        }
        const n = Math.min(remaining, this.maxSegmentPayload(), usable);
        const last = n === remaining;
        const fin = last && chunk.fin;
        const data = offset === 0 && n === chunk.data.length ? chunk.data : chunk.data.subarray(offset, offset + n);
        this.emit(this.sndNxt, ACK | (last ? PSH : 0) | (fin ? FIN : 0), data, false);
        this.sndNxt = seqAdd(this.sndNxt, n + (fin ? 1 : 0));
        if (!this.rttTiming) {
          this.rttTiming = true;
          this.rttSeq = this.sndNxt;
          this.rttStartMs = nowMs;
        }
      } else {
        this.emit(this.sndNxt, ACK | FIN, EMPTY, false);
        this.sndNxt = seqAdd(this.sndNxt, 1);
      }
      this.rtoTimer.armIfIdle(nowMs + this.rto);
    }
  }

  /**
   * Payload bytes one data segment may carry: the target's MSS and the IP packet limit
   * (`maxIpPacketBytes`), less the option bytes `emit` puts in every segment (RFC 6691: the MSS
   * counts no options). At least 1, so a tiny limit cannot stall the stream.
   */
  private maxSegmentPayload(): number {
    const ipHeader = this.tuple.family === 6 ? IPV6_HEADER_BYTES : IPV4_HEADER_BYTES;
    const optionBytes = this.tsEnabled ? TIMESTAMP_OPTION_BYTES : 0;
    const byPacket = this.opts.maxIpPacketBytes - ipHeader - TCP_HEADER_BYTES;
    return Math.max(1, Math.min(this.targetMss, byPacket) - optionBytes);
  }

  private retransmit(): void {
    const found = this.chunkAt(this.sndUna);
    this.counters.retransmit++;
    this.rttTiming = false;
    if (!found) {
      if (this.state === 'SYN_SENT') {
        this.counters.send++;
        this.counters.sendSyn++;
        this.sendSynAgain();
      }
      return;
    }
    const chunk = this.found!;
    const offset = this.foundOffset;
    const remaining = chunk.data.length - Math.min(offset, chunk.data.length);
    const inFlight = seqDiff(this.sndNxt, this.sndUna);
    const n = Math.min(remaining, this.maxSegmentPayload(), inFlight);
    const fin = chunk.fin && n === remaining && seqDiff(seqAdd(this.sndUna, n + 1), this.sndNxt) <= 0;
    this.emit(
      this.sndUna,
      ACK | (n > 0 && n === remaining ? PSH : 0) | (fin ? FIN : 0),
      chunk.data.subarray(offset, offset + n),
      true,
    );
  }

  private onAck(nowMs: number, hdr: TargetHeader): void {
    const advance = seqDiff(hdr.ack, this.sndUna);
    const window = hdr.window;
    if (advance > 0 && seqDiff(hdr.ack, this.sndNxt) <= 0) {
      this.sndUna = hdr.ack;
      while (this.chunks.length > 0) {
        const c = this.chunks.at(0)!;
        if (seqDiff(seqAdd(c.seq, c.data.length + (c.fin ? 1 : 0)), this.sndUna) > 0) break;
        this.chunks.shift();
        if (this.foundIndex > 0) this.foundIndex--;
      }
      this.dupAcks = 0;
      if (this.rttTiming && seqDiff(hdr.ack, this.rttSeq) >= 0) {
        this.rtt.sample(nowMs - this.rttStartMs);
        this.rttTiming = false;
      }
      this.rto = this.rtt.rtoMs();
      if (this.sndUna === this.sndNxt) this.rtoTimer.cancel();
      else this.rtoTimer.arm(nowMs + this.rto);
    } else if (
      advance === 0 &&
      hdr.payloadLength === 0 &&
      (hdr.flags & FIN) === 0 &&
      this.sndUna !== this.sndNxt &&
      window === this.lastWindowSeen &&
      hdr.ack === this.lastAckSeen
    ) {
      this.dupAcks++;
      if (this.dupAcks === 3) {
        this.retransmit();
        this.rtoTimer.arm(nowMs + this.rto);
      }
    }
    if (advance >= 0) {
      this.sndWnd = window * this.sndWndFactor;
      if (window > 0) this.persistTimer.cancel();
    }
    this.lastAckSeen = hdr.ack;
    this.lastWindowSeen = window;
  }

  private sendAck(): void {
    this.emit(this.sndNxt, ACK, EMPTY, false);
  }

  private emit(seq: number, flags: number, payload: Buffer, isRetransmit: boolean): void {
    const ack = (flags & ACK) !== 0 ? this.rcvNxt : 0;
    this.counters.send++;
    if (payload.length > 0 && !isRetransmit) this.counters.sendContent++;
    if ((flags & FIN) !== 0 && !isRetransmit) this.counters.sendFin++;
    if ((flags & RST) !== 0) this.counters.sendReset++;
    if ((flags & ACK) !== 0) {
      this.lastAckSent = this.rcvNxt;
      this.unackedResponseSegs = 0;
      this.ackTimer.cancel();
    }
    const out = OUT;
    const t = this.tuple;
    out.family = t.family;
    out.src = t.clientIp;
    out.srcPort = t.clientPort;
    out.dst = t.targetIp;
    out.dstPort = t.targetPort;
    out.seq = seq;
    out.ack = ack;
    out.flags = flags;
    out.window = this.opts.advertisedWindow;
    if (this.tsEnabled) {
      TS_OPTION.tsval = this.tsLast;
      TS_OPTION.tsecr = this.tsRecent;
      out.options = TS_OPTIONS;
    } else {
      out.options = NO_OPTIONS;
    }
    out.payload = payload;
    this.sink.sendSegment(out);
  }

  // ---- ending ---------------------------------------------------------------------------------

  /** Every captured client byte (and FIN) has been sent to the target and acknowledged. */
  get replayDone(): boolean {
    return (
      !this.stream.hasGap &&
      seqDiff(this.streamEnd, this.sndNxt) <= 0 &&
      this.sndUna === this.sndNxt &&
      (this.tx?.transform.heldBytes ?? 0) === 0
    );
  }

  /** The client reused this port for a new connection: reset the target's side and end. */
  closeForReplacement(nowMs: number): void {
    this.close(nowMs, 'replaced', true);
  }

  /** The engine's backlog reached its bound and this session is among the oldest: reset and end. */
  shed(nowMs: number): void {
    this.close(nowMs, 'shed', true);
  }

  /** tcpcopy stops: reset the target's side (unless closed already) and end. */
  stop(nowMs: number): void {
    this.close(nowMs, 'stopped', true);
  }

  private maybeFinish(nowMs: number): void {
    if (!this.synchronized) {
      if (
        this.state === 'SYN_SENT' &&
        this.client === 'RESET' &&
        !this.stream.hasGap &&
        seqDiff(this.streamEnd, this.sndNxt) <= 0
      ) {
        this.close(nowMs, 'clientReset', true);
      }
      return;
    }
    const allSent = seqDiff(this.streamEnd, this.sndNxt) <= 0 && !this.stream.hasGap;
    const allAcked = this.sndUna === this.sndNxt;
    if (this.client === 'RESET' && allSent && (allAcked || !this.opts.waitForResponse)) {
      this.close(nowMs, 'clientReset', true);
    } else if (this.state === 'CLOSE_WAIT' && allSent && allAcked) {
      this.close(nowMs, 'finished', true);
    }
  }

  private close(_nowMs: number, reason: CloseReason, sendRst: boolean): void {
    if (this.state === 'CLOSED') return;
    if (sendRst) this.emit(this.sndNxt, this.state === 'SYN_SENT' ? RST : RST | ACK, EMPTY, false);
    this.state = 'CLOSED';
    this.closeReason = reason;
    this.rtoTimer.cancel();
    this.persistTimer.cancel();
    this.ackTimer.cancel();
    this.handshakeTimer.cancel();
    // The captured bytes go now: the engine's deadline heap may still hold this session for a while
    // (its entries are dropped lazily), and a shed session can hold megabytes.
    this.chunks.clear();
    this.found = null;
    this.foundIndex = 0;
    this.stream.clear();
    this.sink.sessionClosed?.(this.tuple, reason, this.clientIsn);
  }
}
