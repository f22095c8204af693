// The MySQL mode's stream transform (session/types.ts StreamTransform) for one replicated session: the
// captured login answered the online server's scramble, so it is re-signed for the target's. Pure.
//
//   greeting  client bytes are held until the target's greeting (its payload, from intercept) gives
//             the scramble;
//   login     the client's HandshakeResponse41 is rebuilt with the auth response for the target's
//             scramble and the target's password of that user (its length may change);
//   auth      the client's bytes are held until the target answers the login: OK lets them go;
//             an auth switch is answered with a packet of our own (the next sequence id); the
//             captured client's own auth-continuation packets (sequence id ≠ 0, answers to the
//             online server's switch) are dropped; ERR is counted and reported;
//   done      every later byte goes as captured, moved by the bytes the login changed.
// A session this cannot re-sign (TLS, no password for its user, an unsupported plugin, bytes that do
// not parse, a greeting intercept did not forward) passes as captured from where it stopped, counted.

import {
  authResponse,
  encodeLogin,
  encodePacket,
  isSslRequest,
  parseAuthReply,
  parseGreeting,
  parseLogin,
} from '../mysql/index.js';
import type { ErrPacket, Greeting, Login, Password } from '../mysql/index.js';
import { seqAdd } from '../session/index.js';
import type { StreamTransform, TransformChunk } from '../session/index.js';

/** Reply payload bytes asked for while the login is followed: a greeting, an auth switch or an ERR fit. */
export const LOGIN_REPLY_BYTES = 512;
const HEADER = 4;

export interface MysqlCounters {
  /** Sessions followed from their SYN. */
  sessions: number;
  loginsRewritten: number;
  authSwitches: number;
  authOk: number;
  authFailed: number;
  /** Sessions in TLS (SSLRequest): not replayable, passed as captured. */
  tlsSessions: number;
  /** Logins of a user with no password for the target (--mysql). */
  noPassword: number;
  unsupportedPlugin: number;
  /** Client or server packets that did not parse (the session then passes as captured). */
  unparsable: number;
  /** The target's greeting or auth answer came without its payload (intercept without the feature). */
  noReplyPayload: number;
  /** Sessions whose login was not captured (joined mid-stream) and could not be rebuilt: not replayed. */
  joinedSkipped: number;
  /** Sessions joined mid-stream rebuilt with a login of their client's (or --mysql-default). */
  joinedRebuilt: number;
  /** Rebuilt sessions given their client's captured session state (USE, SET) first (session-state.ts). */
  joinedStateReplayed: number;
  /** Replayed state commands the target answered with ERR. */
  stateRefused: number;
  /** Statements prepared with both ids known (statements.ts). */
  statementsPrepared: number;
  /** Statement commands whose id was changed to the target's. */
  statementRemaps: number;
  /** Statement commands naming an id with no known target id (passed unchanged, or unusable when joined). */
  unknownStatementIds: number;
  /** Prepares whose online or target answer could not be attributed (their statements are not mapped). */
  prepareAnswersLost: number;
  /** Prepares past the per-session statement bound (not mapped). */
  statementsOverCap: number;
}

export function newMysqlCounters(): MysqlCounters {
  return {
    sessions: 0,
    loginsRewritten: 0,
    authSwitches: 0,
    authOk: 0,
    authFailed: 0,
    tlsSessions: 0,
    noPassword: 0,
    unsupportedPlugin: 0,
    unparsable: 0,
    noReplyPayload: 0,
    joinedSkipped: 0,
    joinedRebuilt: 0,
    joinedStateReplayed: 0,
    stateRefused: 0,
    statementsPrepared: 0,
    statementRemaps: 0,
    unknownStatementIds: 0,
    prepareAnswersLost: 0,
    statementsOverCap: 0,
  };
}

/** What the edge logs (once per user or kind is its business). */
export interface MysqlEvents {
  authFailed(user: string, err: ErrPacket): void;
  noPassword(user: string): void;
  problem(what: string): void;
}

export interface MysqlLoginOptions {
  /**
   * A session joined mid-stream (its login was not captured): the login to send for it once the
   * target's greeting came (a client's last captured one, or one made for --mysql-default), before
   * the captured commands. Undefined: the session's own login is in its stream.
   */
  join?: Login;
  /**
   * A captured login the target accepted (the mode keeps each client's last one for its sessions
   * joined mid-stream; a refused one would only be refused again).
   */
  onLogin?: (login: Login) => void;
  /** The target's password of a user, or undefined when none was configured. */
  passwordFor(user: string): Password | undefined;
  /** --mysql-skip-grant: the target accepts any login; it is passed as captured. */
  skipGrant: boolean;
  counters: MysqlCounters;
  events: MysqlEvents;
}

/**
 * 'settling': the target said OK; the captured client's answers to an online auth switch that may
 * still come (sequence id ≠ 0) are dropped until its first command (sequence id 0) shows.
 */
type Phase = 'greeting' | 'login' | 'auth' | 'settling' | 'done';

export class MysqlLoginTransform implements StreamTransform {
  private phase: Phase = 'greeting';
  /** Client chunks held (reassembler numbering), oldest first. */
  private held: TransformChunk[] = [];
  private heldLength = 0;
  /** Output seq = input seq + delta (bytes added minus bytes removed so far). */
  private delta = 0;
  /** The output seq just after the last byte emitted (or where the first will go). */
  private outNext: number | null = null;
  private greeting: Greeting | null = null;
  private user = '';
  private password: Password = '';
  /** The captured login, once read (told to onLogin when the target accepts it). */
  private login: Login | null = null;
  /** The client's bytes stopped being MySQL packets this can follow (TLS, or bytes that did not parse). */
  private unframed = false;
  private loggedIn = false;

  constructor(private readonly o: MysqlLoginOptions) {
    o.counters.sessions++;
  }

  get replyPayloadBytes(): number {
    return this.phase === 'greeting' || this.phase === 'auth' || this.phase === 'login' ? LOGIN_REPLY_BYTES : 0;
  }

  /** Whether the client stream is still MySQL packets (false after an SSLRequest or unparsable bytes). */
  get framed(): boolean {
    return !this.unframed;
  }

  /** The target accepted the session's login (its OK came); false while it is due, or when it failed. */
  get accepted(): boolean {
    return this.loggedIn;
  }

  get heldBytes(): number {
    // A held FIN counts as a byte: the session has work until it goes.
    return this.heldLength + (this.held.length > 0 && this.held[this.held.length - 1]!.fin ? 1 : 0);
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    this.outNext ??= c.seq;
    if (this.phase === 'done') {
      this.pass(c, emit);
      return;
    }
    this.held.push(c);
    this.heldLength += c.data.length;
    this.progress(emit);
  }

  targetReply(
    prefix: Buffer | undefined,
    payloadLength: number,
    inOrder: boolean,
    emit: (c: TransformChunk) => void,
  ): void {
    if (this.phase === 'done' || this.phase === 'login') return;
    // The packet the phase waits for must be whole in the prefix: a MySQL header and its payload.
    if (prefix === undefined || !inOrder) {
      this.o.counters.noReplyPayload++;
      this.giveUp(emit, 'the target reply of the login was not forwarded by intercept (intercept --reply-payload)');
      return;
    }
    const len = prefix.length >= HEADER ? prefix.readUIntLE(0, 3) : -1;
    if (len < 0 || prefix.length < HEADER + len || payloadLength < HEADER + len) {
      this.o.counters.unparsable++;
      this.giveUp(emit, `a target packet of the login longer than the ${prefix.length} bytes forwarded`);
      return;
    }
    const seq = prefix[3]!;
    const payload = prefix.subarray(HEADER, HEADER + len);
    try {
      if (this.phase === 'greeting') this.onGreeting(payload, emit);
      else this.onAuthReply(seq, payload, emit);
    } catch (e) {
      this.o.counters.unparsable++;
      this.giveUp(emit, `target packet: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private onGreeting(payload: Buffer, emit: (c: TransformChunk) => void): void {
    if (payload[0] === 0xff) {
      // The target refused the connection outright (too many connections, host blocked).
      this.giveUp(emit, null);
      return;
    }
    this.greeting = parseGreeting(payload);
    this.phase = 'login';
    if (this.o.join !== undefined) this.sendJoinLogin(this.o.join, emit);
    else this.progress(emit);
  }

  private onAuthReply(seq: number, payload: Buffer, emit: (c: TransformChunk) => void): void {
    const r = parseAuthReply(payload);
    const c = this.o.counters;
    if (r.kind === 'ok') {
      c.authOk++;
      this.loggedIn = true;
      if (this.login !== null) this.o.onLogin?.(this.login);
      this.phase = 'settling';
      this.progress(emit);
      return;
    }
    if (r.kind === 'err') {
      c.authFailed++;
      this.o.events.authFailed(this.user, r);
      this.giveUp(emit, null);
      return;
    }
    if (r.kind === 'auth-switch') {
      // mysql_native_password's nonce ends with a NUL; ed25519's is 32 raw bytes (its last may be 0).
      const nul = r.plugin === 'mysql_native_password' && r.data[r.data.length - 1] === 0;
      const scramble = nul ? r.data.subarray(0, r.data.length - 1) : r.data;
      const answer = authResponse(r.plugin, this.password, scramble);
      if (answer === null) {
        c.unsupportedPlugin++;
        this.giveUp(emit, `the target asks for auth plugin ${r.plugin}, which the MySQL mode cannot answer`);
        return;
      }
      c.authSwitches++;
      this.inject(encodePacket((seq + 1) & 0xff, answer), emit);
      this.progress(emit);
      return;
    }
    c.unsupportedPlugin++;
    this.giveUp(emit, 'the target asks for more authentication data (caching_sha2 or similar), not supported');
  }

  /** Moves as far as the held bytes and the phase allow. */
  private progress(emit: (c: TransformChunk) => void): void {
    try {
      if (this.phase === 'login') this.rewriteLogin(emit);
      if (this.phase === 'auth' || this.phase === 'settling') this.dropContinuations();
      if (this.phase === 'settling') this.settle();
      if (this.phase === 'done') this.release(emit);
    } catch (e) {
      // Bytes from the network that the codec or a signer refuses (a plugin the greeting's scramble
      // does not fit, say): never a crash; the session goes on as captured.
      this.o.counters.unparsable++;
      this.giveUp(emit, `login: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** After the OK: done once the held bytes start with a command (sequence id 0). */
  private settle(): void {
    const head = this.peek(HEADER);
    if (head !== null && head[3] === 0) this.phase = 'done';
    else if (head === null && this.held.length > 0 && this.held[this.held.length - 1]!.fin) this.phase = 'done';
  }

  private rewriteLogin(emit: (c: TransformChunk) => void): void {
    // A client that closes before a whole login (a health check): nothing to re-sign, the FIN goes.
    const closed = this.held.length > 0 && this.held[this.held.length - 1]!.fin;
    const head = this.peek(HEADER);
    if (head === null) {
      if (closed) this.giveUp(emit, null);
      return;
    }
    const len = head.readUIntLE(0, 3);
    const whole = this.peek(HEADER + len);
    if (whole === null) {
      if (closed) this.giveUp(emit, null);
      return;
    }
    const payload = whole.subarray(HEADER);
    const c = this.o.counters;
    if (isSslRequest(payload)) {
      c.tlsSessions++;
      this.unframed = true;
      this.giveUp(emit, null);
      return;
    }
    let login;
    try {
      login = parseLogin(payload);
    } catch (e) {
      c.unparsable++;
      this.unframed = true;
      this.giveUp(emit, `client login: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.user = login.user.toString('utf8');
    this.login = login;
    if (this.o.skipGrant) {
      this.phase = 'auth';
      this.release(emit, HEADER + len);
      return;
    }
    const answer = this.answerFor(login, this.o.passwordFor(this.user), emit);
    if (answer === null) return;
    const first = this.held[0]!;
    const rebuilt = encodePacket(whole[3]!, answer);
    this.take(HEADER + len);
    this.delta += rebuilt.length - (HEADER + len);
    this.emitNew(rebuilt, first, emit);
    c.loginsRewritten++;
    this.phase = 'auth';
  }

  /** A joined session: our login (sequence id 1) goes before the captured commands, which wait for its OK. */
  private sendJoinLogin(template: Login, emit: (c: TransformChunk) => void): void {
    this.user = template.user.toString('utf8');
    const answer = this.answerFor(template, this.o.skipGrant ? '' : this.o.passwordFor(this.user), emit);
    if (answer === null) return;
    this.inject(encodePacket(1, answer), emit);
    this.o.counters.joinedRebuilt++;
    this.phase = 'auth';
  }

  /**
   * The payload of `login` signed with the user's target password for the target's scramble, or null
   * (counted, the session given up) when there is no password or its auth plugin cannot be answered.
   */
  private answerFor(login: Login, password: Password | undefined, emit: (c: TransformChunk) => void): Buffer | null {
    const c = this.o.counters;
    if (password === undefined) {
      c.noPassword++;
      this.o.events.noPassword(this.user);
      this.giveUp(emit, null);
      return null;
    }
    this.password = password;
    const plugin = login.authPlugin ?? this.greeting!.authPlugin ?? 'mysql_native_password';
    const answer = authResponse(plugin, password, this.greeting!.scramble);
    if (answer === null) {
      c.unsupportedPlugin++;
      this.giveUp(emit, `the login uses auth plugin ${plugin}, which the MySQL mode cannot answer`);
      return null;
    }
    return encodeLogin({ ...login, authResponse: answer });
  }

  /** Drops the captured client's auth-continuation packets (sequence id ≠ 0) at the head of what is held. */
  private dropContinuations(): void {
    for (;;) {
      const head = this.peek(HEADER);
      if (head === null || head[3] === 0) return;
      const wire = HEADER + head.readUIntLE(0, 3);
      if (this.heldLength < wire) return;
      this.take(wire);
      this.delta -= wire;
    }
  }

  /** Emits the first `bytes` held, moved by delta; all of it (a FIN-only chunk too) when omitted. */
  private release(emit: (c: TransformChunk) => void, bytes?: number): void {
    if (bytes === undefined) {
      for (const c of this.held) this.pass(c, emit);
      this.held = [];
      this.heldLength = 0;
      return;
    }
    let left = bytes;
    while (left > 0 && this.held.length > 0) {
      const c = this.held[0]!;
      if (c.data.length <= left) {
        this.held.shift();
        this.heldLength -= c.data.length;
        left -= c.data.length;
        this.pass(c, emit);
      } else {
        const part: TransformChunk = { ...c, data: c.data.subarray(0, left), fin: false };
        c.seq = seqAdd(c.seq, left);
        c.data = c.data.subarray(left);
        this.heldLength -= left;
        left = 0;
        this.pass(part, emit);
      }
    }
  }

  private pass(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    c.seq = seqAdd(c.seq, this.delta);
    this.outNext = seqAdd(c.seq, c.data.length);
    emit(c);
  }

  /** Adds bytes of our own at the current output position. */
  private inject(data: Buffer, emit: (c: TransformChunk) => void): void {
    const like = this.held[0] ?? null;
    this.emitNew(data, like, emit);
    this.delta += data.length;
  }

  private emitNew(data: Buffer, like: TransformChunk | null, emit: (c: TransformChunk) => void): void {
    const seq = this.outNext!;
    this.outNext = seqAdd(seq, data.length);
    emit({ seq, data, fin: false, onlineAck: like?.onlineAck ?? 0, capturedMs: like?.capturedMs ?? 0 });
  }

  /** The first n held bytes joined, or null when fewer are held. */
  private peek(n: number): Buffer | null {
    if (this.heldLength < n) return null;
    const first = this.held[0]!;
    if (first.data.length >= n) return first.data.subarray(0, n);
    return Buffer.concat(this.held.map((c) => c.data)).subarray(0, n);
  }

  /** Removes the first n held bytes (the caller accounts for them in delta or emits their replacement). */
  private take(n: number): void {
    let left = n;
    while (left > 0) {
      const c = this.held[0]!;
      if (c.data.length <= left) {
        this.held.shift();
        left -= c.data.length;
        this.heldLength -= c.data.length;
        // A FIN on a consumed chunk stays in the stream as an empty chunk.
        if (c.fin) this.held.unshift({ ...c, seq: seqAdd(c.seq, c.data.length), data: Buffer.alloc(0) });
      } else {
        c.seq = seqAdd(c.seq, left);
        c.data = c.data.subarray(left);
        this.heldLength -= left;
        left = 0;
      }
    }
  }

  /** Stops following the session: what is held goes as captured (moved by delta), and so does the rest. */
  private giveUp(emit: (c: TransformChunk) => void, why: string | null): void {
    if (why !== null) this.o.events.problem(why);
    this.phase = 'done';
    this.release(emit);
  }
}
