// The socket transport's edge: replays conversations (streams.ts) to a target over ordinary TCP
// connections (net.Socket), no privileges. Sessions start at their captured times relative to the
// first one (÷ accelerate; topSpeed: at once), at most maxOpenSessions at a time. Within a session
// each turn is sent once the target's reply to the previous turn is complete (at least the captured
// reply's length, or bytes and then responseQuietMs without more) and not before its captured offset
// from the session start (÷ accelerate; topSpeed: no wait). Failures are counted, never thrown.
// requestsPerS (--rps) caps the turns sent per second across all sessions (RatePacer, ../pace.ts): a
// turn ready to go waits until the cap allows one. A new session opens only once the one opened
// before it has sent its first turn and the cap allows a turn within one interval, so sessions open
// no faster than the cap and no connection sits idle for long waiting for its first turn.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Conversation } from './streams.js';
import type { Completion, ResponseLogWriter, SessionOutcome } from './response-log.js';
import { RateMeter, RatePacer } from '../pace.js';
import type { StreamTransform, TransformChunk } from '../../session/index.js';

export interface SocketReplayOptions {
  target: { host: string; port: number };
  /** Divides captured gaps (session starts, turn offsets). Default 1. */
  accelerate?: number;
  /** Ignore captured timing: sessions start as slots free, turns go as soon as replies complete. */
  topSpeed?: boolean;
  /** Most turns sent per second, all sessions together; null or absent = no cap. */
  requestsPerS?: number | null;
  /** Sessions open at once. Default 256. */
  maxOpenSessions?: number;
  /** A session fails ('timeout') when it waits this long for the connection or a reply byte. Default 10,000. */
  sessionTimeoutMs?: number;
  /** A reply is complete after bytes and then this long without more. Default 50. */
  responseQuietMs?: number;
  /** When no reply length is known (or 0 expected) and no byte came, wait this long. Default 200. */
  noReplyWaitMs?: number;
  /** After the last turn, how long to wait for the target to close after our FIN. Default 1,000. */
  closeWaitMs?: number;
  /** Response bytes kept per turn (the rest counted, truncated = true). Default 65,536. */
  maxResponseBytes?: number;
  log?: ResponseLogWriter | undefined;
  /** Called at most every progressIntervalMs (and once at the end). */
  onProgress?: ((p: ReplayProgress) => void) | undefined;
  progressIntervalMs?: number;
  signal?: AbortSignal | undefined;
  /**
   * --mysql: each session's login is re-signed for the target (src/mysql-replay/); 'skip' leaves a
   * session out (counted by the factory's owner). Absent: sessions go as captured.
   */
  mysql?: MysqlSessionFactory | undefined;
  /**
   * --compare-report: each turn's outcome once its reply is complete (`turn` −1: the greeting):
   * the target's reply as kept (at most maxResponseBytes) and its whole length, and its times.
   */
  onTurn?: ((t: CompletedTurn) => void) | undefined;
}

/** One replayed turn as --compare-report reads it. */
export interface CompletedTurn {
  readonly conv: Conversation;
  readonly turn: number;
  readonly reply: Buffer;
  readonly replyBytes: number;
  /** ms from sending the turn to the reply's first byte; -1 without a reply. */
  readonly targetMs: number;
}

/** Makes the login transform of a session: its 4-tuple, whether its SYN was captured, its first client bytes. */
export type MysqlSessionFactory = (conv: Conversation) => StreamTransform | 'skip';

export interface FailureCounters {
  connectRefused: number;
  reset: number;
  timeout: number;
  /** The target closed the connection before every turn was sent. */
  targetClosed: number;
  other: number;
}

export interface ReplayProgress {
  sessionsStarted: number;
  sessionsDone: number;
  sessionsOpen: number;
  requestsSent: number;
  bytesSent: number;
  responseBytes: number;
  elapsedMs: number;
}

export interface SocketReplayCounters extends ReplayProgress {
  /** Sessions whose every turn was sent and answered (outcome ok). */
  sessionsOk: number;
  sessionsFailed: number;
  /** Sessions whose connection the target accepted. */
  sessionsConnected: number;
  /** Turns (client requests, pipelined ones counted as one turn) sent. */
  turnsSent: number;
  /** Turns whose reply had more bytes than the log keeps. */
  responsesTruncated: number;
  /** Replies completed by length / by quiet period / with no reply. */
  completedByLength: number;
  completedByQuiet: number;
  noReply: number;
  failures: FailureCounters;
  /** Sessions not started because the replay was aborted. */
  aborted: number;
  /** --mysql: sessions left out whole (joined mid-stream and not rebuildable). */
  mysqlSkipped: number;
  /** With requestsPerS: the cap and the turns per second achieved (first to last turn sent); else null. */
  rateCap: { requestsPerS: number; achievedRequestsPerS: number } | null;
}

const DEFAULTS = {
  accelerate: 1,
  maxOpenSessions: 256,
  sessionTimeoutMs: 10_000,
  responseQuietMs: 50,
  noReplyWaitMs: 200,
  closeWaitMs: 1000,
  maxResponseBytes: 65_536,
  progressIntervalMs: 200,
} as const;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class SocketReplayer {
  readonly counters: SocketReplayCounters;
  private readonly o: Required<Omit<SocketReplayOptions, 'log' | 'onProgress' | 'signal' | 'mysql' | 'onTurn'>> &
    Pick<SocketReplayOptions, 'log' | 'onProgress' | 'signal' | 'mysql' | 'onTurn'>;
  private readonly t0 = performance.now();
  private lastProgress = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly pacer: RatePacer | null;
  private readonly turnMeter = new RateMeter();
  /** Sessions opened under the cap that have not sent their first turn yet. */
  private opening = 0;
  private readonly openedWaiters: (() => void)[] = [];

  constructor(opts: SocketReplayOptions) {
    const accelerate = opts.accelerate ?? DEFAULTS.accelerate;
    if (!(accelerate > 0 && Number.isFinite(accelerate)))
      throw new RangeError(`accelerate must be a positive number, got ${accelerate}`);
    const max = opts.maxOpenSessions ?? DEFAULTS.maxOpenSessions;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxOpenSessions must be a positive integer, got ${max}`);
    this.o = {
      mysql: opts.mysql,
      target: opts.target,
      accelerate,
      topSpeed: opts.topSpeed ?? false,
      maxOpenSessions: max,
      requestsPerS: opts.requestsPerS ?? null,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      responseQuietMs: opts.responseQuietMs ?? DEFAULTS.responseQuietMs,
      noReplyWaitMs: opts.noReplyWaitMs ?? DEFAULTS.noReplyWaitMs,
      closeWaitMs: opts.closeWaitMs ?? DEFAULTS.closeWaitMs,
      maxResponseBytes: opts.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      progressIntervalMs: opts.progressIntervalMs ?? DEFAULTS.progressIntervalMs,
      log: opts.log,
      onTurn: opts.onTurn,
      onProgress: opts.onProgress,
      signal: opts.signal,
    };
    this.counters = {
      sessionsStarted: 0,
      sessionsDone: 0,
      sessionsOpen: 0,
      requestsSent: 0,
      bytesSent: 0,
      responseBytes: 0,
      elapsedMs: 0,
      sessionsOk: 0,
      sessionsFailed: 0,
      sessionsConnected: 0,
      turnsSent: 0,
      responsesTruncated: 0,
      completedByLength: 0,
      completedByQuiet: 0,
      noReply: 0,
      failures: { connectRefused: 0, reset: 0, timeout: 0, targetClosed: 0, other: 0 },
      aborted: 0,
      mysqlSkipped: 0,
      rateCap: null,
    };
    this.pacer = this.o.requestsPerS === null ? null : new RatePacer(this.o.requestsPerS);
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  /**
   * Replays conversations in the order given (sorted by startMs for captured timing), resolving when
   * every started session has ended. Never rejects for network failures.
   */
  async replay(conversations: Iterable<Conversation> | AsyncIterable<Conversation>): Promise<SocketReplayCounters> {
    const running = new Set<Promise<void>>();
    let firstStart: number | null = null;
    const replayStart = this.now();
    const signal = this.o.signal;
    try {
      for await (const conv of conversations) {
        if (signal?.aborted === true) {
          this.counters.aborted++;
          continue;
        }
        firstStart ??= conv.startMs;
        if (!this.o.topSpeed) {
          const due = replayStart + (conv.startMs - firstStart) / this.o.accelerate;
          await sleep(due - this.now(), signal);
        }
        while (this.counters.sessionsOpen >= this.o.maxOpenSessions) {
          await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        }
        if (this.pacer !== null) await this.roomUnderCap(signal);
        if (isAborted(signal)) {
          this.counters.aborted++;
          continue;
        }
        this.counters.sessionsStarted++;
        this.counters.sessionsOpen++;
        if (this.pacer !== null) this.opening++;
        const p = this.runSession(conv).finally(() => {
          running.delete(p);
          this.counters.sessionsOpen--;
          this.counters.sessionsDone++;
          this.slotWaiters.shift()?.();
          this.progress(false);
        });
        running.add(p);
      }
    } finally {
      // Sessions already started finish (or fail) even when the source throws.
      await Promise.all(running);
    }
    this.progress(true);
    return this.counters;
  }

  private progress(force: boolean): void {
    this.counters.elapsedMs = this.now();
    if (this.pacer !== null)
      this.counters.rateCap = { requestsPerS: this.pacer.ratePerS, achievedRequestsPerS: this.turnMeter.ratePerS };
    const cb = this.o.onProgress;
    if (cb === undefined) return;
    if (!force && this.counters.elapsedMs - this.lastProgress < this.o.progressIntervalMs) return;
    this.lastProgress = this.counters.elapsedMs;
    const c = this.counters;
    cb({
      sessionsStarted: c.sessionsStarted,
      sessionsDone: c.sessionsDone,
      sessionsOpen: c.sessionsOpen,
      requestsSent: c.requestsSent,
      bytesSent: c.bytesSent,
      responseBytes: c.responseBytes,
      elapsedMs: c.elapsedMs,
    });
  }

  private runSession(conv: Conversation): Promise<void> {
    const login = this.o.mysql?.(conv) ?? null;
    if (login === 'skip') {
      this.counters.mysqlSkipped++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      new SessionRun(this, conv, resolve, login).start();
    });
  }

  /**
   * Under the cap: waits until no session is opening (first turn not sent yet) and the cap allows a
   * turn within one interval (connecting takes part of it).
   */
  private async roomUnderCap(signal: AbortSignal | undefined): Promise<void> {
    const pacer = this.pacer!;
    while (!isAborted(signal)) {
      if (this.opening > 0) {
        await new Promise<void>((resolve) => this.openedWaiters.push(resolve));
        continue;
      }
      const wait = pacer.earliest(this.now()) - this.now() - pacer.intervalMs;
      if (wait <= 0) return;
      await sleep(Math.ceil(wait), signal);
    }
  }

  /** @internal A session sent its first turn, or ended without one. */
  opened(): void {
    if (this.pacer === null) return;
    this.opening--;
    this.openedWaiters.shift()?.();
  }

  /** @internal When the cap lets a turn ready since `readyMs` go (clock ms); null without a cap. */
  turnAllowedAt(readyMs: number): number | null {
    return this.pacer === null ? null : this.pacer.earliest(readyMs);
  }

  /** @internal A turn allowed at `allowedMs` was sent: the cap counts it, the meter times it. */
  turnSent(allowedMs: number): void {
    if (this.pacer === null) return;
    const now = this.now();
    this.pacer.take(now, allowedMs);
    this.turnMeter.record(now);
  }

  /** @internal */ get options(): SocketReplayer['o'] {
    return this.o;
  }

  /** @internal */ clock(): number {
    return this.now();
  }
}

/** One session's replay: a small state machine driven by socket events and one timer. */
class SessionRun {
  private readonly sock: Socket;
  private readonly o: SocketReplayer['options'];
  private readonly c: SocketReplayCounters;
  private startMs = 0;
  /** The turn whose reply we wait for: −1 = greeting, turns.length = none (closing). */
  private waiting = -1;
  private expected: number | null = 0;
  private got = 0;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private sentMs = 0;
  private firstByteMs: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private connected = false;
  private finished = false;
  private turnsSent = 0;
  private closing = false;
  private remoteEnded = false;
  /** Waiting for the next turn's captured offset or its slot under the rate cap (reply already complete). */
  private pacing = false;
  /** When the rate cap allowed the turn being sent. */
  private allowedMs = 0;
  /** The replayer was told that the first turn was sent (or that there will be none). */
  private toldOpened = false;

  constructor(
    private readonly r: SocketReplayer,
    private readonly conv: Conversation,
    private readonly done: () => void,
    /** --mysql: the login transform; the session logs in through it before its turns. */
    private readonly login: StreamTransform | null = null,
  ) {
    this.o = r.options;
    this.c = r.counters;
    this.sock = connect({ host: this.o.target.host, port: this.o.target.port });
  }

  start(): void {
    this.startMs = this.r.clock();
    const s = this.sock;
    s.setNoDelay(true);
    s.on('connect', () => this.onConnect());
    s.on('data', (b: Buffer) => this.onData(b));
    s.on('end', () => this.onEnd());
    s.on('error', (e: NodeJS.ErrnoException) => this.fail(classify(e), e));
    s.on('close', () => {
      if (!this.finished) this.onClosed();
    });
    this.arm(this.o.sessionTimeoutMs, () => this.fail('timeout', null));
  }

  private arm(ms: number, fn: () => void): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      fn();
    }, ms);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private onConnect(): void {
    this.connected = true;
    this.c.sessionsConnected++;
    if (this.login !== null) this.beginLogin(this.login);
    else if (this.conv.greetingBytes > 0) this.beginWait(-1, this.conv.greetingBytes);
    else this.sendPaced(0);
  }

  /** --mysql: turns of the captured login exchange (the login, then auth continuations, sequence id ≠ 0). */
  private loginTurns = 0;
  /** --mysql: target bytes not yet a whole MySQL packet, while logging in. */
  private loginBuffer: Buffer | null = null;

  /**
   * --mysql: the transform gets the captured login turns and the target's packets (whole ones) and
   * says what to send; once it wants no more replies and holds nothing, the turns after the login go
   * as usual. A session joined mid-stream has no login turn: the transform sends one of its own.
   */
  private beginLogin(t: StreamTransform): void {
    const turns = this.conv.turns;
    if (this.conv.syn && turns.length > 0) {
      this.loginTurns = 1;
      while (this.loginTurns < turns.length && turns[this.loginTurns]!.data[3] !== 0) this.loginTurns++;
    }
    this.loginBuffer = Buffer.alloc(0);
    let seq = 0;
    const chunk = (data: Buffer): TransformChunk => ({ seq, data, fin: false, onlineAck: 0, capturedMs: 0 });
    t.clientChunk(chunk(Buffer.alloc(0)), this.loginEmit);
    for (let i = 0; i < this.loginTurns; i++) {
      const data = turns[i]!.data;
      t.clientChunk(chunk(data), this.loginEmit);
      seq += data.length;
    }
    this.arm(this.o.sessionTimeoutMs, () => this.fail('timeout', null));
  }

  private readonly loginEmit = (c: TransformChunk): void => {
    if (c.data.length === 0 || this.finished) return;
    this.sock.write(c.data);
    this.c.bytesSent += c.data.length;
  };

  /** --mysql: target bytes while logging in, fed to the transform a whole packet at a time. */
  private onLoginData(t: StreamTransform, b: Buffer): void {
    let buf = this.loginBuffer!.length === 0 ? b : Buffer.concat([this.loginBuffer!, b]);
    while (buf.length >= 4 && t.replyPayloadBytes > 0) {
      const whole = 4 + buf.readUIntLE(0, 3);
      if (buf.length < whole) break;
      t.targetReply(buf.subarray(0, whole), whole, true, this.loginEmit);
      buf = buf.subarray(whole);
    }
    this.loginBuffer = buf;
    if (t.replyPayloadBytes > 0 || t.heldBytes > 0) return;
    // Logged in (or the transform gave up and the target will say so): the turns after the login.
    this.loginBuffer = null;
    this.disarm();
    if (this.loginTurns >= this.conv.turns.length) this.close();
    else this.sendPaced(this.loginTurns);
  }

  private beginWait(turn: number, expected: number | null): void {
    this.waiting = turn;
    this.expected = expected;
    this.got = 0;
    this.kept = [];
    this.keptBytes = 0;
    this.sentMs = this.r.clock();
    this.firstByteMs = null;
    this.pacing = false;
    if (expected === null || expected === 0) this.arm(this.o.noReplyWaitMs, () => this.complete('noReply'));
    else this.arm(this.o.sessionTimeoutMs, () => this.fail('timeout', null));
  }

  private onData(b: Buffer): void {
    if (this.finished) return;
    this.c.responseBytes += b.length;
    if (this.loginBuffer !== null && this.login !== null) {
      this.onLoginData(this.login, b);
      return;
    }
    if (this.pacing || this.closing) {
      // Bytes after a reply was complete: more of it (counted, not logged).
      return;
    }
    this.got += b.length;
    this.firstByteMs ??= this.r.clock();
    const room = this.o.maxResponseBytes - this.keptBytes;
    if (room > 0) {
      const part = b.length <= room ? b : b.subarray(0, room);
      this.kept.push(part);
      this.keptBytes += part.length;
    }
    if (this.expected !== null && this.expected > 0 && this.got >= this.expected) this.complete('length');
    else this.arm(this.o.responseQuietMs, () => this.complete('quiet'));
  }

  private complete(how: Completion): void {
    if (this.finished || this.pacing || this.closing) return;
    this.disarm();
    if (how === 'length') this.c.completedByLength++;
    else if (how === 'quiet') this.c.completedByQuiet++;
    else if (how === 'noReply') this.c.noReply++;
    this.logTurn(how);
    const next = this.waiting + 1;
    if (next >= this.conv.turns.length) {
      this.close();
      return;
    }
    const wait = this.o.topSpeed
      ? 0
      : this.startMs + this.conv.turns[next]!.offsetMs / this.o.accelerate - this.r.clock();
    if (wait > 1) {
      this.pacing = true;
      this.arm(wait, () => {
        this.pacing = false;
        this.sendPaced(next);
      });
    } else {
      this.sendPaced(next);
    }
  }

  /**
   * Sends turn i once the rate cap allows it (at once without a cap); waits as pacing otherwise and
   * asks again, since another session may have sent meanwhile (and a timer may fire early).
   */
  private sendPaced(i: number, readyMs = this.r.clock()): void {
    const at = this.r.turnAllowedAt(readyMs);
    const wait = at === null ? 0 : at - this.r.clock();
    if (wait <= 0) {
      this.allowedMs = at ?? 0;
      this.sendTurn(i);
      return;
    }
    this.pacing = true;
    this.arm(Math.ceil(wait), () => {
      this.pacing = false;
      this.sendPaced(i, readyMs);
    });
  }

  private firstTurnDone(): void {
    if (this.toldOpened) return;
    this.toldOpened = true;
    this.r.opened();
  }

  private logTurn(how: Completion): void {
    const log = this.o.log;
    if (this.got > this.o.maxResponseBytes) this.c.responsesTruncated++;
    this.o.onTurn?.({
      conv: this.conv,
      turn: this.waiting,
      reply: Buffer.concat(this.kept),
      replyBytes: this.got,
      targetMs: this.firstByteMs === null ? -1 : Math.max(0, this.firstByteMs - this.sentMs),
    });
    if (log === undefined) return;
    const t = this.waiting >= 0 ? this.conv.turns[this.waiting] : undefined;
    const req = t?.data ?? Buffer.alloc(0);
    log.write({
      type: 'turn',
      session: this.conv.id,
      ...(this.conv.copy === undefined ? {} : { copy: this.conv.copy }),
      client: `${this.conv.client}:${this.conv.clientPort}`,
      server: `${this.conv.server}:${this.conv.serverPort}`,
      turn: this.waiting,
      requestBytes: req.length,
      request: req.subarray(0, this.o.maxResponseBytes),
      capturedReplyBytes: t === undefined ? this.conv.greetingBytes : t.replyBytes,
      responseBytes: this.got,
      truncated: this.got > this.o.maxResponseBytes,
      response: Buffer.concat(this.kept),
      sentMs: round(this.sentMs),
      firstByteMs: this.firstByteMs === null ? null : round(this.firstByteMs),
      completeMs: round(this.r.clock()),
      completion: how,
    });
  }

  private sendTurn(i: number): void {
    if (this.finished) return;
    const t = this.conv.turns[i]!;
    if (this.remoteEnded) {
      this.fail('targetClosed', null);
      return;
    }
    this.sock.write(t.data);
    this.turnsSent++;
    this.c.turnsSent++;
    this.c.requestsSent++;
    this.r.turnSent(this.allowedMs);
    this.firstTurnDone();
    this.c.bytesSent += t.data.length;
    this.beginWait(i, t.replyBytes);
  }

  private close(): void {
    this.closing = true;
    if (this.conv.clientClose === 'rst') {
      this.sock.resetAndDestroy();
      this.finish('ok', null);
      return;
    }
    if (this.remoteEnded) {
      this.sock.destroy();
      this.finish('ok', null);
      return;
    }
    this.sock.end();
    this.arm(this.o.closeWaitMs, () => {
      this.sock.destroy();
      this.finish('ok', null);
    });
  }

  private onEnd(): void {
    this.remoteEnded = true;
    if (this.finished) return;
    if (this.closing) {
      this.sock.destroy();
      this.finish('ok', null);
      return;
    }
    if (!this.connected) return;
    // The target closed: that completes the reply we wait for; turns left after it cannot be sent.
    if (!this.pacing) {
      this.disarm();
      this.logTurn('closed');
      if (this.waiting + 1 >= this.conv.turns.length) {
        this.sock.destroy();
        this.finish('ok', null);
        return;
      }
    }
    this.fail('targetClosed', null);
  }

  private onClosed(): void {
    if (this.closing) this.finish('ok', null);
    else this.fail(this.connected ? 'targetClosed' : 'error', null);
  }

  private fail(outcome: Exclude<SessionOutcome, 'ok'>, e: Error | null): void {
    if (this.finished) return;
    if (this.closing && outcome !== 'timeout') {
      // An error after our last turn was answered (e.g. a reset on close) does not fail the session.
      this.finish('ok', null);
      return;
    }
    if (outcome === 'timeout' && !this.pacing && this.connected && !this.closing) this.logTurn('failed');
    this.sock.destroy();
    const f = this.c.failures;
    if (outcome === 'refused') f.connectRefused++;
    else if (outcome === 'reset') f.reset++;
    else if (outcome === 'timeout') f.timeout++;
    else if (outcome === 'targetClosed') f.targetClosed++;
    else f.other++;
    this.finish(outcome, e);
  }

  private finish(outcome: SessionOutcome, e: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    this.firstTurnDone();
    this.disarm();
    if (outcome === 'ok') this.c.sessionsOk++;
    else this.c.sessionsFailed++;
    this.o.log?.write({
      type: 'session',
      session: this.conv.id,
      ...(this.conv.copy === undefined ? {} : { copy: this.conv.copy }),
      outcome,
      turns: this.conv.turns.length,
      turnsSent: this.turnsSent,
      greetingBytes: this.conv.greetingBytes,
      error: e === null ? null : `${(e as NodeJS.ErrnoException).code ?? e.name}: ${e.message}`,
    });
    this.done();
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function classify(e: NodeJS.ErrnoException): Exclude<SessionOutcome, 'ok'> {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'error';
  }
}
