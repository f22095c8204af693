// The session table: routes captured client packets and target reply headers to their session by
// the exact 4-tuple (client ip:port ⇄ target ip:port), creates and removes sessions, and keeps
// one deadline heap so the edge needs only one timer (`nextDeadlineMs`).

import { TcpFlags } from '../packet/index.js';
import { newCounters } from './counters.js';
import type { SessionCounters } from './counters.js';
import { DeadlineHeap } from './deadline-heap.js';
import { Deque } from './deque.js';
import { SessionError } from './errors.js';
import { ownCopy } from './reassembly.js';
import { Session } from './session.js';
import type { SessionState } from './session.js';
import { SessionTable } from './table.js';
import { DEFAULT_SESSION_OPTIONS } from './types.js';
import type { SessionKey } from '../packet/index.js';
import type {
  ClientSegment,
  EngineSink,
  SessionOptions,
  StreamTransform,
  StreamTransformFactory,
  TargetAddress,
  TargetHeader,
} from './types.js';

/** Maps an online server address:port to the target it is replicated to (undefined: not replicated). */
export type TargetResolver = (onlineIp: string, onlinePort: number) => TargetAddress | undefined;
/** The targets beyond TargetResolver's of an online address:port that goes to several (-x), or undefined. */
export type TargetFanout = (onlineIp: string, onlinePort: number) => readonly TargetAddress[] | undefined;

interface Entry {
  session: Session;
  /** The 4-tuple the entry is filed under (targetIp is what SessionTable compares). */
  readonly clientIp: string;
  readonly clientPort: number;
  readonly targetIp: string;
  readonly targetPort: number;
  /** In the table (false once the session closed and was removed). */
  live: boolean;
  /**
   * The deadline filed in the heap (−1: none). A deadline that moves later is not filed again (its
   * early entry fires, finds nothing due and files the real one), so keep-alive traffic, whose
   * timeouts move later on every packet, costs no heap push per packet.
   */
  deadline: number;
  /**
   * Packets of the next connection on this client port (its SYN first), held while this session
   * still replays the old one; started when it closes or `reusedPortWaitMs` after `successorSinceMs`.
   */
  successor: ClientSegment[];
  successorSinceMs: number;
  /** The session's bufferedBytes() as last added to the engine's `queuedBytes`. */
  buffered: number;
}

/** The engine's backlog now: what is captured and not yet replayed. */
export interface Backlog {
  /** Age of the oldest captured client byte not yet sent to the target, ms (0: nothing waits). */
  readonly lagMs: number;
  /** Client bytes held by all sessions (unsent, unacknowledged, out of order). */
  readonly queuedBytes: number;
  /** Sessions with unsent captured data. */
  readonly waitingSessions: number;
}

/** The engine's bounds in force (0: none): `-m`'s memory governor lowers and raises them while it runs. */
export interface EngineBounds {
  /** Live sessions; a new session past it sheds the oldest. */
  readonly sessions: number;
  /** Client bytes held by all sessions; past it the sessions furthest behind are shed. */
  readonly queuedBytes: number;
}

/** A held packet must not share its payload with the capture buffer, which is reused. */
function keep(pkt: ClientSegment): ClientSegment {
  return { ...pkt, options: { ...pkt.options }, payload: ownCopy(pkt.payload) };
}

function checkOptions(o: SessionOptions): void {
  for (const [name, v] of Object.entries(o)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) {
      throw new SessionError('BAD_OPTION', `${name} must be a finite number ≥ 0, got ${String(v)}`);
    }
  }
  if (o.advertisedWindowScale > 14) throw new SessionError('BAD_OPTION', 'advertisedWindowScale must be ≤ 14');
  if (o.advertisedWindow > 0xffff) throw new SessionError('BAD_OPTION', 'advertisedWindow must be ≤ 65535');
  if (o.defaultMss < 1 || o.defaultMss > 0xffff) throw new SessionError('BAD_OPTION', 'defaultMss must be 1..65535');
}

/**
 * Every `nowMs` given to the engine is on one monotonic clock in milliseconds. Whole milliseconds
 * are best (the replicator's clock): deadlines stay small integers, where fractions make V8 box a
 * heap number for each deadline computed.
 */
export class SessionEngine {
  readonly counters: SessionCounters = newCounters();
  readonly options: Readonly<SessionOptions>;
  private readonly sessions = new SessionTable<Entry>();
  private readonly heap = new DeadlineHeap<Entry>();
  private shedding = false;
  /** Live sessions in the order they were created (closed ones are skipped, and swept out when many). */
  private readonly byAge = new Deque<Entry>();
  private sessionBound: number;
  private backlogBound: number;

  constructor(
    private readonly resolveTarget: TargetResolver,
    private readonly sink: EngineSink,
    options: Partial<SessionOptions> = {},
    /** Per-session stream transforms (the MySQL mode); none by default. */
    private readonly transforms: StreamTransformFactory | null = null,
    /** Further targets of an online endpoint: every session is replayed to each as well. */
    private readonly moreTargets: TargetFanout | null = null,
  ) {
    const o = { ...DEFAULT_SESSION_OPTIONS, ...options };
    checkOptions(o);
    this.options = Object.freeze(o);
    this.sessionBound = o.maxSessions;
    this.backlogBound = o.maxQueuedBytes;
  }

  /** The bounds in force now (the options' until setBounds changes them). */
  get bounds(): EngineBounds {
    return { sessions: this.sessionBound, queuedBytes: this.backlogBound };
  }

  /**
   * Changes the bounds (0: none) and sheds at once down to them: the oldest sessions past the
   * session bound, the sessions furthest behind past the backlog bound. Sessions shed at the session
   * bound, and at a backlog bound below the options' (or where the options have none), are counted
   * as shed for memory too.
   */
  setBounds(nowMs: number, b: EngineBounds): void {
    if (
      !Number.isSafeInteger(b.sessions) ||
      b.sessions < 0 ||
      !Number.isSafeInteger(b.queuedBytes) ||
      b.queuedBytes < 0
    )
      throw new SessionError('BAD_OPTION', `bounds must be safe integers ≥ 0, got ${b.sessions} and ${b.queuedBytes}`);
    this.sessionBound = b.sessions;
    this.backlogBound = b.queuedBytes;
    if (b.sessions > 0 && this.sessions.size > b.sessions) this.shedOldest(nowMs, b.sessions);
    if (b.queuedBytes > 0 && this.counters.queuedBytes > b.queuedBytes) this.shed(nowMs);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Live sessions by state (every state, 0 included): O(sessions), for a metrics scrape. */
  sessionsByState(): Record<SessionState, number> {
    const out: Record<SessionState, number> = { SYN_SENT: 0, ESTABLISHED: 0, CLOSE_WAIT: 0, CLOSED: 0 };
    for (const e of this.sessions.values()) out[e.session.state]++;
    return out;
  }

  /** The live session for a 4-tuple, if any (for statistics and tests). */
  session(clientIp: string, clientPort: number, targetIp: string, targetPort: number): Session | undefined {
    return this.sessions.get(clientIp, clientPort, targetIp, targetPort)?.session;
  }

  onClientPacket(nowMs: number, pkt: ClientSegment): void {
    const target = this.resolveTarget(pkt.dst, pkt.dstPort);
    if (!target) return;
    const c = this.counters;
    c.allClient++;
    if (pkt.payload.length > 0) c.clientContent++;
    const isSyn = (pkt.flags & TcpFlags.SYN) !== 0 && (pkt.flags & TcpFlags.ACK) === 0;
    if (isSyn) c.synCount++;
    this.dispatch(nowMs, pkt, target, isSyn);
    if (this.moreTargets === null) return;
    const more = this.moreTargets(pkt.dst, pkt.dstPort);
    if (more !== undefined) for (const t of more) this.dispatch(nowMs, pkt, t, isSyn);
  }

  /** Routes a counted client packet to its session, holding or starting a reused port's next connection. */
  private dispatch(nowMs: number, pkt: ClientSegment, target: TargetAddress, isSyn: boolean): void {
    const c = this.counters;
    let entry = this.sessions.get(pkt.src, pkt.srcPort, target.ip, target.port);
    if (entry && entry.successor.length > 0) {
      // Packets of the next connection(s) on this port are held: this one joins them, in capture
      // order, also when it belongs to a third connection (under load the replay lags the online
      // client by more than one reuse of a busy port); each starts when the one before it is done.
      if (entry.successor.length < this.options.reusedPortQueuePackets) {
        entry.successor.push(keep(pkt));
        return;
      }
      // Too much held: stop waiting for the old session; the next one takes over the held packets.
      this.replaceNow(nowMs, entry);
      entry = this.sessions.get(pkt.src, pkt.srcPort, target.ip, target.port);
      if (entry && entry.successor.length > 0) {
        entry.successor.push(keep(pkt));
        return;
      }
    }
    if (entry && isSyn && entry.session.clientIsn !== pkt.seq) {
      if (!entry.session.replayDone) {
        // The client reused the port faster than the old session is replayed: let it finish first.
        c.reusedPortWaits++;
        entry.successor.push(keep(pkt));
        entry.successorSinceMs = nowMs;
        this.settle(nowMs, entry);
        return;
      }
      // The client port is reused by a new connection: end the old session first.
      entry.session.closeForReplacement(nowMs);
      this.settle(nowMs, entry);
      entry = undefined;
    }
    if (entry) {
      entry.session.onClientPacket(nowMs, pkt);
      this.settle(nowMs, entry);
      return;
    }
    const joinable = pkt.payload.length > 0 && (pkt.flags & (TcpFlags.RST | TcpFlags.SYN)) === 0;
    if (!isSyn && !joinable) return;
    if (!isSyn && this.options.onlyWithSyn) {
      c.refusedNoSyn++;
      return;
    }
    const tuple: SessionKey = {
      family: pkt.family,
      clientIp: pkt.src,
      clientPort: pkt.srcPort,
      targetIp: target.ip,
      targetPort: target.port,
    };
    let transform: StreamTransform | null = null;
    if (this.transforms !== null) {
      const t = this.transforms(tuple, !isSyn, pkt.payload);
      if (t === 'skip') return; // the factory counted why
      transform = t;
    }
    if (this.sessionBound > 0 && this.sessions.size >= this.sessionBound) this.shedOldest(nowMs, this.sessionBound - 1);
    c.active++;
    const session = new Session(tuple, pkt, nowMs, this.options, c, this.sink, transform);
    entry = {
      session,
      clientIp: pkt.src,
      clientPort: pkt.srcPort,
      targetIp: target.ip,
      targetPort: target.port,
      live: true,
      deadline: -1,
      successor: [],
      successorSinceMs: 0,
      buffered: 0,
    };
    this.sessions.set(pkt.src, pkt.srcPort, target.port, entry);
    this.byAge.push(entry);
    if (this.byAge.length > 2 * this.sessions.size + 1024) this.sweepByAge();
    this.settle(nowMs, entry);
  }

  /** Drops the closed sessions from the creation order (they are skipped there until swept). */
  private sweepByAge(): void {
    for (let n = this.byAge.length; n > 0; n--) {
      const e = this.byAge.shift()!;
      if (e.live) this.byAge.push(e);
    }
  }

  /**
   * Past the session bound: resets the oldest live sessions (by creation) until at most `keep` are
   * left (a shed session's waiting successor, started by settle, counts too), each counted
   * (`shedSessions`, `shedForMemory`, `shedBytes`) and closed with reason 'shed'.
   */
  private shedOldest(nowMs: number, keep: number): void {
    if (this.shedding) return;
    this.shedding = true;
    try {
      while (this.sessions.size > keep) {
        const e = this.byAge.shift();
        if (e === undefined) break;
        if (!e.live || e.session.state === 'CLOSED') continue;
        this.counters.shedSessions++;
        this.counters.shedForMemory++;
        this.counters.shedBytes += e.buffered;
        e.session.shed(nowMs);
        this.settle(nowMs, e);
      }
    } finally {
      this.shedding = false;
    }
  }

  /** Resets the old session of a reused port now; settle() then starts the held connection. */
  private replaceNow(nowMs: number, entry: Entry): void {
    if (entry.session.state !== 'CLOSED') entry.session.closeForReplacement(nowMs);
    this.settle(nowMs, entry);
  }

  onTargetResponse(nowMs: number, hdr: TargetHeader): void {
    const entry = this.sessions.get(hdr.dst, hdr.dstPort, hdr.src, hdr.srcPort);
    if (!entry) {
      this.counters.respUnmatched++;
      return;
    }
    entry.session.onTargetResponse(nowMs, hdr);
    this.settle(nowMs, entry);
  }

  /**
   * A packet of the online server to a client (src = the online server, dst = the client), for the
   * stream transform of the session it answers; ignored when there is none.
   */
  onOnlineReply(nowMs: number, pkt: ClientSegment): void {
    if (pkt.payload.length === 0) return;
    const target = this.resolveTarget(pkt.src, pkt.srcPort);
    if (!target) return;
    this.toOnlineReply(nowMs, pkt, target);
    const more = this.moreTargets?.(pkt.src, pkt.srcPort);
    if (more !== undefined) for (const t of more) this.toOnlineReply(nowMs, pkt, t);
  }

  private toOnlineReply(nowMs: number, pkt: ClientSegment, target: TargetAddress): void {
    const entry = this.sessions.get(pkt.dst, pkt.dstPort, target.ip, target.port);
    if (!entry || !entry.live) return;
    entry.session.onOnlineReply(nowMs, pkt.payload);
    this.settle(nowMs, entry);
  }

  /** The stream transform of the session `tuple` may go on (see StreamTransform.resume). */
  resume(nowMs: number, tuple: SessionKey): void {
    const entry = this.sessions.get(tuple.clientIp, tuple.clientPort, tuple.targetIp, tuple.targetPort);
    if (!entry || !entry.live) return;
    entry.session.resumeTransform(nowMs);
    this.settle(nowMs, entry);
  }

  /** Runs every session whose deadline is due. */
  onTimer(nowMs: number): void {
    for (let guard = this.heap.size; guard >= 0; guard--) {
      const at = this.heap.topAt;
      if (at > nowMs) break;
      const entry = this.heap.topItem!;
      this.heap.pop();
      if (entry.deadline !== at || !entry.live) continue;
      entry.deadline = -1;
      entry.session.onTimer(nowMs);
      if (entry.successor.length > 0 && nowMs >= entry.successorSinceMs + this.options.reusedPortWaitMs)
        this.replaceNow(nowMs, entry);
      else this.settle(nowMs, entry);
    }
  }

  /** The earliest time `onTimer` should be called, or −1 when no session needs a timer. */
  nextDeadlineMs(): number {
    for (;;) {
      const e = this.heap.topItem;
      if (e === undefined) return -1;
      const at = this.heap.topAt;
      if (e.deadline !== at || !e.live) {
        this.heap.pop();
        continue;
      }
      const real = this.entryDeadline(e);
      if (real === at) return real;
      // Filed early (its deadline moved later since): file the real one and look again.
      this.heap.pop();
      e.deadline = real;
      if (real >= 0) this.heap.push(real, e);
    }
  }

  /** The entry's session deadline, or its reused port's give-up time if earlier; −1: none. */
  private entryDeadline(entry: Entry): number {
    let d = entry.session.nextDeadlineMs();
    if (entry.successor.length > 0) d = Math.min(d, entry.successorSinceMs + this.options.reusedPortWaitMs);
    return d === Infinity ? -1 : d;
  }

  /** The lag and size of the backlog (a scan of every session: for statistics, not per packet). */
  backlog(nowMs: number): Backlog {
    let oldest = Infinity;
    let waiting = 0;
    for (const e of this.sessions.values()) {
      const t = e.session.oldestUnsentMs();
      if (t < 0) continue;
      waiting++;
      if (t < oldest) oldest = t;
    }
    return {
      lagMs: waiting > 0 ? Math.max(0, nowMs - oldest) : 0,
      queuedBytes: this.counters.queuedBytes,
      waitingSessions: waiting,
    };
  }

  /**
   * tcpcopy stops: every live session resets its target side (RST, close reason 'stopped'), so the
   * target frees them now instead of at its own timeouts. Returns how many were reset.
   */
  stopAll(nowMs: number): number {
    const live = [...this.sessions.values()].filter((e) => e.live && e.session.state !== 'CLOSED');
    for (const e of live) {
      e.session.stop(nowMs);
      this.settle(nowMs, e);
    }
    return live.length;
  }

  /**
   * The backlog reached its bound: resets the sessions whose unsent data is oldest (the ones
   * furthest behind the online server) until it is under 90 % of the bound. Never silent: each
   * is counted (`shedSessions`, `shedBytes`; `shedForMemory` too while -m lowered the bound) and
   * closed with reason 'shed'.
   */
  private shed(nowMs: number): void {
    if (this.shedding) return;
    this.shedding = true;
    try {
      const goal = Math.floor(this.backlogBound * 0.9);
      const forMemory = this.backlogBound < this.options.maxQueuedBytes || this.options.maxQueuedBytes === 0;
      const byAge: { entry: Entry; at: number }[] = [];
      for (const e of this.sessions.values()) {
        if (e.buffered === 0) continue;
        const t = e.session.oldestUnsentMs();
        byAge.push({ entry: e, at: t < 0 ? Infinity : t });
      }
      byAge.sort((a, b) => a.at - b.at);
      for (const { entry } of byAge) {
        if (this.counters.queuedBytes <= goal) break;
        if (entry.session.state === 'CLOSED') continue;
        this.counters.shedSessions++;
        if (forMemory) this.counters.shedForMemory++;
        this.counters.shedBytes += entry.buffered;
        entry.session.shed(nowMs);
        this.settle(nowMs, entry);
      }
    } finally {
      this.shedding = false;
    }
  }

  /** After an event: drop a closed session (starting a held successor) or re-file its deadline. */
  private settle(nowMs: number, entry: Entry): void {
    const s = entry.session;
    const buffered = s.bufferedBytes();
    if (buffered !== entry.buffered) {
      this.counters.queuedBytes += buffered - entry.buffered;
      entry.buffered = buffered;
      const max = this.backlogBound;
      if (max > 0 && this.counters.queuedBytes > max && !this.shedding) this.shed(nowMs);
    }
    if (s.state === 'CLOSED') {
      if (entry.live) {
        entry.live = false;
        this.sessions.delete(entry.clientIp, entry.clientPort, entry.targetPort, entry);
        this.counters.active--;
        this.counters.released++;
      }
      entry.deadline = -1;
      const held = entry.successor;
      entry.successor = [];
      // The held packets go on to the same target (an online endpoint may have several).
      const target: TargetAddress = { ip: entry.targetIp, port: entry.targetPort };
      for (const pkt of held) {
        this.dispatch(nowMs, pkt, target, (pkt.flags & TcpFlags.SYN) !== 0 && (pkt.flags & TcpFlags.ACK) === 0);
      }
      return;
    }
    const d = this.entryDeadline(entry);
    if (d < 0 || (entry.deadline >= 0 && d >= entry.deadline)) return;
    entry.deadline = d;
    this.heap.push(d, entry);
    if (this.heap.size > 4 * this.sessions.size + 1024) {
      this.heap.rebuild((at, e) => e.deadline === at && e.live);
    }
  }
}
