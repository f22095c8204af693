// The MySQL mode's statement-id remapping (a session/types.ts StreamTransform, run before the login
// transform in the session's TransformChain). Pure.
//
// MariaDB numbers a connection's prepared statements on from where the last connection served by
// the same cached thread stopped (a failed prepare uses a number too), so a copied session gets other
// ids on the target than online whenever the target ran prepared statements before; a session joined
// mid-stream usually does (online prepared others before the capture started). So the ids are mapped,
// per session:
//
//   online ids  a COM_STMT_PREPARE's online answer (PREPARE_OK or ERR, captured from the online
//               server: onlineReply) belongs to it when it is the last command the client sent;
//   target ids  the target's replies (their first bytes, asked of intercept) are walked packet by
//               packet: every command answered starts its answer with sequence id 1, so the answers
//               are matched to the commands sent, in order, and a prepare's is read;
//   commands    COM_STMT_EXECUTE, _SEND_LONG_DATA, _CLOSE, _RESET and _FETCH get the target's id in
//               bytes 1..4 (same length: nothing moves). One whose statement still waits for the
//               target's answer is held, with everything after it, until that answer came.
//   prepares    a command after a COM_STMT_PREPARE is held, with everything after it, until the
//               target's answer to that prepare was read: the walk sees only the first
//               STATEMENT_REPLY_BYTES of each reply, and a client that prepares its statements one
//               after the other (sysbench: 18 at a session's start) had them all sent at once (-W), so
//               the target's answers came coalesced in one reply of 600-900 bytes whose later packet
//               headers were never seen: the walk lost its place and every later prepare with it.
//               Held, each prepare's answer ends the target's reply stream until the next command goes.
//               (An execute already waits for its statement's answer, so prepare-execute costs nothing more.)
//
// What cannot be attributed is counted and passes unchanged: an id of a statement prepared before
// the capture (in a joined session it is sent as an id the target never gives, so it cannot name
// another statement there), a prepare whose online answer was not captured, and every prepare after
// the walk lost its place in the target's replies (a reply whose packet headers are beyond the bytes
// forwarded, or out of order): mappings known by then stay.

import {
  COM_CHANGE_USER,
  COM_QUIT,
  COM_RESET_CONNECTION,
  COM_STMT_CLOSE,
  COM_STMT_EXECUTE,
  COM_STMT_FETCH,
  COM_STMT_PREPARE,
  COM_STMT_RESET,
  COM_STMT_SEND_LONG_DATA,
} from '../mysql/index.js';
import { Deque, seqAdd } from '../session/index.js';
import type { StreamTransform, TransformChunk } from '../session/index.js';
import type { MysqlCounters } from './login.js';

/**
 * Reply payload bytes asked for the whole session: the walk needs every packet header of the
 * target's replies; the login transform asks as many while it follows the login, so the wish is in
 * place before the first prepare is answered.
 */
export const STATEMENT_REPLY_BYTES = 512;
/** Statements remembered per session; past it, new prepares are not mapped (counted). */
export const MAX_STATEMENTS = 4096;
/** MariaDB: "the statement prepared last" (passes unchanged, the target means its own). */
const LAST_STATEMENT = 0xffffffff;
/** Sent for an unknown id in a joined session: the target never hands it out (its ids count from 1). */
export const NEVER_STATEMENT = 0xfffffffe;
const HEADER = 4;
/** A command's header and its first 5 payload bytes: the command byte and a statement id. */
const HEAD = HEADER + 5;
/** PREPARE_OK's payload: 0x00, id (4), columns (2), parameters (2), filler 0x00, warnings (2). */
const PREPARE_OK_LENGTH = 12;

type Side = 'waiting' | 'ok' | 'failed';

/** A statement the session prepared, as the online server and the target numbered it. */
interface Statement {
  online: Side;
  onlineId: number;
  target: Side;
  targetId: number;
  /** The online answer's column and parameter counts (the target's must be the same). */
  columns: number;
  params: number;
  targetColumns: number;
  targetParams: number;
}

/** A command the client sent, as read from its first bytes. */
interface Mark {
  /** Stream offset of its header. */
  readonly at: number;
  readonly cmd: number;
  /** The statement id it names (statement commands), else -1. */
  readonly id: number;
  /** A prepare's statement, or the statement a statement command names; null when unknown. */
  readonly stmt: Statement | null;
}

interface Pending {
  readonly c: TransformChunk;
  /** Stream offset of its first byte. */
  readonly at: number;
}

export interface MysqlStatementOptions {
  counters: MysqlCounters;
  /** The session was joined mid-stream: ids it prepared before the join are unknown to the target. */
  joined: boolean;
  /** The session went TLS (the login transform saw an SSLRequest): its bytes are no longer MySQL packets. */
  isTls(): boolean;
}

export class MysqlStatementTransform implements StreamTransform {
  /** False once the session is not followed (TLS): every byte passes. */
  private following = true;
  /** Client chunks not yet emitted, oldest first. */
  private pending: Pending[] = [];
  private pendingBytes = 0;
  /** Stream offset of the next byte to arrive. */
  private inEnd = 0;
  /** Commands read but not yet released to the target, oldest first. */
  private readonly marks = new Deque<Mark>();
  // The client stream's framing: the packet being read.
  private readonly head = Buffer.alloc(HEAD);
  private headLength = 0;
  private headAt = 0;
  /** Bytes of the current packet after its head still to come. */
  private skip = 0;
  /** The prepare sent last, while its online answer may still come. */
  private awaitingOnline: Statement | null = null;
  /** Online id → statement, for the commands that name it. */
  private readonly byOnline = new Map<number, Statement>();
  // The walk of the target's replies.
  /** Commands sent that the target answers, in order; a prepare's entry is its statement. */
  private readonly answers = new Deque<Statement | null>();
  private targetSkip = 0;
  private targetPrevSeq = -1;
  /** Bytes of a packet's start at the end of the previous reply (its head continues in the next). */
  private carry: Buffer | null = null;
  private lost = false;
  /** The prepare sent last while its target answer is still due: later commands wait for it. */
  private preparing: Statement | null = null;

  constructor(private readonly o: MysqlStatementOptions) {}

  get replyPayloadBytes(): number {
    return this.following && !this.lost ? STATEMENT_REPLY_BYTES : 0;
  }

  get heldBytes(): number {
    const last = this.pending[this.pending.length - 1];
    return this.pendingBytes + (last?.c.fin === true ? 1 : 0);
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    if (this.following && this.o.isTls()) this.stopFollowing(emit);
    if (!this.following) {
      emit(c);
      return;
    }
    this.pending.push({ c, at: this.inEnd });
    this.pendingBytes += c.data.length;
    this.frame(c.data);
    this.inEnd += c.data.length;
    this.release(emit);
  }

  targetReply(
    prefix: Buffer | undefined,
    payloadLength: number,
    inOrder: boolean,
    emit: (c: TransformChunk) => void,
  ): void {
    if (!this.following || this.lost) return;
    if (prefix === undefined || !inOrder) {
      this.loseWalk();
    } else {
      this.walk(prefix, payloadLength);
    }
    this.release(emit);
  }

  onlineReply(payload: Uint8Array): void {
    const s = this.awaitingOnline;
    if (!this.following || s === null || payload.length < HEADER + 1 || payload[3] !== 1) return;
    const len = payload[0]! | (payload[1]! << 8) | (payload[2]! << 16);
    if (isPrepareOk(payload, HEADER, len)) {
      this.awaitingOnline = null;
      const view = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
      s.online = 'ok';
      s.onlineId = view.readUInt32LE(HEADER + 1);
      s.columns = view.readUInt16LE(HEADER + 5);
      s.params = view.readUInt16LE(HEADER + 7);
      this.byOnline.set(s.onlineId, s);
      // The target may have answered first (its reply can overtake the capture of online's).
      if (s.target === 'ok') this.bothKnown(s, s.targetColumns, s.targetParams);
    } else if (payload[HEADER] === 0xff) {
      this.awaitingOnline = null;
      s.online = 'failed';
    }
  }

  // ---- the client stream ----------------------------------------------------------------------

  /** Reads the packet heads in `data` (the bytes after inEnd): one mark per command. */
  private frame(data: Buffer): void {
    let i = 0;
    while (i < data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - i);
        i += n;
        this.skip -= n;
        continue;
      }
      if (this.headLength === 0) this.headAt = this.inEnd + i;
      const want = this.headLength < HEADER ? HEADER : HEADER + Math.min(5, this.head.readUIntLE(0, 3));
      const n = Math.min(want - this.headLength, data.length - i);
      data.copy(this.head, this.headLength, i, i + n);
      this.headLength += n;
      i += n;
      if (this.headLength < want) continue;
      if (want === HEADER && this.head.readUIntLE(0, 3) > 0) continue; // now read the payload's first bytes
      const len = this.head.readUIntLE(0, 3);
      this.onHead(len);
      this.skip = HEADER + len - this.headLength;
      this.headLength = 0;
    }
  }

  /** A packet whose header (and first payload bytes, up to 5) is in `head`. */
  private onHead(len: number): void {
    // Commands have sequence id 0; the login, auth answers and fragments after the first have others.
    if (this.head[3] !== 0 || len === 0) return;
    const cmd = this.head[HEADER]!;
    // The client sent a command after a prepare: that prepare's online answer is past (not captured).
    if (this.awaitingOnline !== null) {
      this.awaitingOnline.online = 'failed';
      this.awaitingOnline = null;
      this.o.counters.prepareAnswersLost++;
    }
    let stmt: Statement | null = null;
    let id = -1;
    if (cmd === COM_STMT_PREPARE) {
      // Past the bound a prepare still takes its place among the target's answers, but maps nothing.
      const full = this.byOnline.size >= MAX_STATEMENTS;
      stmt = {
        online: full ? 'failed' : 'waiting',
        onlineId: -1,
        target: 'waiting',
        targetId: -1,
        columns: -1,
        params: -1,
        targetColumns: -1,
        targetParams: -1,
      };
      if (full) this.o.counters.statementsOverCap++;
      else this.awaitingOnline = stmt;
    } else if (isStatementCommand(cmd) && len >= 5) {
      id = this.head.readUInt32LE(HEADER + 1);
      stmt = this.byOnline.get(id) ?? null;
      if (cmd === COM_STMT_CLOSE) this.byOnline.delete(id);
    } else if (cmd === COM_RESET_CONNECTION || cmd === COM_CHANGE_USER) {
      this.byOnline.clear();
    }
    this.marks.push({ at: this.headAt, cmd, id, stmt });
  }

  /**
   * Emits what may go: every byte before the first command that waits for its statement's target
   * answer, and before the head of a packet not yet read whole; statement ids rewritten on the way.
   */
  private release(emit: (c: TransformChunk) => void): void {
    let upTo = this.headLength > 0 ? this.headAt : this.inEnd;
    for (;;) {
      const m = this.marks.at(0);
      if (m === undefined) break;
      if (this.preparing !== null && this.preparing.target !== 'waiting') this.preparing = null;
      if (this.preparing !== null || (m.id >= 0 && m.stmt !== null && m.stmt.target === 'waiting')) {
        upTo = m.at;
        break;
      }
      this.marks.shift();
      this.send(m);
    }
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const end = p.at + p.c.data.length;
      if (end <= upTo) {
        this.pending.shift();
        this.pendingBytes -= p.c.data.length;
        emit(p.c);
        continue;
      }
      if (p.at < upTo) {
        const n = upTo - p.at;
        const part: TransformChunk = { ...p.c, data: p.c.data.subarray(0, n), fin: false };
        const rest: TransformChunk = { ...p.c, seq: seqAdd(p.c.seq, n), data: p.c.data.subarray(n) };
        this.pending[0] = { c: rest, at: upTo };
        this.pendingBytes -= n;
        emit(part);
      }
      break;
    }
  }

  /** A command goes to the target: its statement id rewritten, its answer expected. */
  private send(m: Mark): void {
    const c = this.o.counters;
    if (m.cmd === COM_STMT_PREPARE) {
      if (m.stmt !== null) {
        if (this.lost) this.lostAnswer(m.stmt);
        else {
          this.answers.push(m.stmt);
          this.preparing = m.stmt;
        }
      }
      return;
    }
    if (m.id >= 0 && m.id !== LAST_STATEMENT) {
      const s = m.stmt;
      let id = m.id;
      if (s !== null && s.target === 'ok') {
        id = s.targetId;
      } else {
        c.unknownStatementIds++;
        if (s === null && this.o.joined) id = NEVER_STATEMENT;
      }
      if (id !== m.id) {
        this.writeId(m.at + HEADER + 1, id);
        if (s !== null) c.statementRemaps++;
      }
    }
    // COM_STMT_CLOSE and _SEND_LONG_DATA have no answer; after COM_QUIT the server closes.
    if (m.cmd !== COM_STMT_CLOSE && m.cmd !== COM_STMT_SEND_LONG_DATA && m.cmd !== COM_QUIT && !this.lost)
      this.answers.push(null);
  }

  /** Writes `id` over the 4 bytes at stream offset `at` (in pending chunks, copied before the change). */
  private writeId(at: number, id: number): void {
    const bytes = [id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, id >>> 24];
    for (let k = 0; k < this.pending.length; k++) {
      const p = this.pending[k]!;
      const from = Math.max(at, p.at);
      const to = Math.min(at + 4, p.at + p.c.data.length);
      if (from >= to) continue;
      const data = Buffer.from(p.c.data);
      for (let x = from; x < to; x++) data[x - p.at] = bytes[x - at]!;
      p.c.data = data;
    }
  }

  // ---- the target's replies -------------------------------------------------------------------

  /** Walks the packets of one target reply (`prefix` its first bytes, in order). */
  private walk(prefix: Buffer, payloadLength: number): void {
    let buf = prefix;
    let length = payloadLength;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, prefix]);
      length += this.carry.length;
      this.carry = null;
    }
    const seen = Math.min(buf.length, length);
    const whole = seen === length;
    // Bytes of a packet whose head was read in an earlier reply.
    let pos = Math.min(this.targetSkip, length);
    this.targetSkip -= pos;
    while (pos < length) {
      if (pos + HEADER > seen) {
        if (whole) this.carry = Buffer.from(buf.subarray(pos, length));
        else this.loseWalk();
        return;
      }
      const len = buf.readUIntLE(pos, 3);
      const seq = buf[pos + 3]!;
      // An answer starts with sequence id 1; a 1 right after a 0 is a long result set's count wrapping.
      if (seq === 1 && this.targetPrevSeq !== 0) {
        const need = Math.min(len, PREPARE_OK_LENGTH);
        if (pos + HEADER + need > seen) {
          if (whole) this.carry = Buffer.from(buf.subarray(pos, length));
          else this.loseWalk();
          return;
        }
        this.onAnswer(buf, pos + HEADER, len);
        if (this.lost) return;
      }
      this.targetPrevSeq = seq;
      pos += HEADER + len;
    }
    // Past the end: the rest of the last packet is in the next reply (when the loop ran, the skip was 0).
    this.targetSkip += pos - length;
  }

  /** The first packet of an answer at buf[at..], `len` bytes long. */
  private onAnswer(buf: Buffer, at: number, len: number): void {
    const s = this.answers.shift();
    if (s === undefined) {
      // An answer to nothing sent: the walk is out of step.
      this.loseWalk();
      return;
    }
    const prepareOk = isPrepareOk(buf, at, len);
    if (s === null) {
      // A PREPARE_OK answering another command: an answer was missed, the walk is out of step.
      if (prepareOk) this.loseWalk();
      return;
    }
    if (prepareOk) {
      s.target = 'ok';
      s.targetId = buf.readUInt32LE(at + 1);
      s.targetColumns = buf.readUInt16LE(at + 5);
      s.targetParams = buf.readUInt16LE(at + 7);
      if (s.online === 'ok') this.bothKnown(s, s.targetColumns, s.targetParams);
    } else if (len > 0 && buf[at] === 0xff) {
      // ERR: the target has no such statement; its commands pass unchanged.
      s.target = 'failed';
    } else {
      // Neither: not this prepare's answer, the walk is out of step.
      this.lostAnswer(s);
      this.loseWalk();
    }
  }

  /** Both answers of a prepare came (in either order): the target's must be of the same statement. */
  private bothKnown(s: Statement, columns: number, params: number): void {
    if (columns !== s.columns || params !== s.params) {
      // Another statement than online's: its commands pass unchanged.
      s.target = 'failed';
      this.o.counters.prepareAnswersLost++;
      return;
    }
    this.o.counters.statementsPrepared++;
  }

  /** The walk lost its place: no later prepare's answer can be known. */
  private loseWalk(): void {
    this.lost = true;
    this.carry = null;
    for (;;) {
      const s = this.answers.shift();
      if (s === undefined) break;
      if (s !== null) this.lostAnswer(s);
    }
  }

  private lostAnswer(s: Statement): void {
    s.target = 'failed';
    this.o.counters.prepareAnswersLost++;
  }

  /** TLS: what is held goes, and every later byte passes. */
  private stopFollowing(emit: (c: TransformChunk) => void): void {
    this.following = false;
    this.marks.clear();
    for (const p of this.pending) emit(p.c);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function isStatementCommand(cmd: number): boolean {
  return (
    cmd === COM_STMT_EXECUTE ||
    cmd === COM_STMT_SEND_LONG_DATA ||
    cmd === COM_STMT_CLOSE ||
    cmd === COM_STMT_RESET ||
    cmd === COM_STMT_FETCH
  );
}

/** Whether the `len`-byte packet payload at b[at..] is a PREPARE_OK (0x00, id, counts, filler 0x00). */
function isPrepareOk(b: Uint8Array, at: number, len: number): boolean {
  return len === PREPARE_OK_LENGTH && b.length >= at + PREPARE_OK_LENGTH && b[at] === 0x00 && b[at + 9] === 0x00;
}
