// A rebuilt session's state (session-state.ts), sent before its own commands: a StreamTransform
// around the session's whole chain. Pure.
//
// The chain emits the rebuilt login first; the login transform lets the first command (sequence id 0)
// go only after the target accepted the login. Just before that command the preamble's commands go
// (USE or COM_INIT_DB, COM_SET_OPTION, SETs: each answered with one packet of sequence id 1), and the
// chain's output is held until the target answered them all. Those answers are read here and not
// passed on: the transforms inside (the statement-id walk, the write order's byte count) see the
// target's replies to the captured commands only, as if the state had been there before the join.

import { encodePacket, parseErr } from '../mysql/index.js';
import type { ErrPacket } from '../mysql/index.js';
import { seqAdd } from '../session/index.js';
import type { StreamTransform, TransformChunk } from '../session/index.js';

/** Reply bytes asked of intercept while the preamble's answers are due (OK/ERR packets are short). */
export const PREAMBLE_REPLY_BYTES = 512;
const HEADER = 4;
/** Answer bytes kept while a packet is incomplete: past it the answers are not OK/ERR packets. */
const MAX_ANSWER_BYTES = 65_536;

export interface StatePreambleOptions {
  /** The command payloads to send, in order (none: the preamble passes everything through). */
  readonly commands: readonly Buffer[];
  /**
   * Whether the target accepted the rebuilt login. A first command without it (the login transform
   * gave up: no password, an ERR, a plugin it cannot answer) goes on alone: no state is sent.
   */
  readonly loginAccepted: () => boolean;
  /** The target answered every command (`refused` of them with ERR). */
  readonly done: (refused: number) => void;
  /** The target refused one (its ERR). */
  readonly refused: (err: ErrPacket) => void;
  /** The answers could not be read (no reply bytes forwarded, or out of order): the held bytes go anyway. */
  readonly lost: () => void;
}

/** 'before': the login goes on; 'answers': the preamble was sent; 'done': everything passes, moved. */
type Phase = 'before' | 'answers' | 'done';

export class MysqlStatePreamble implements StreamTransform {
  private phase: Phase;
  /** Output seq = inner seq + delta once the preamble went. */
  private delta = 0;
  private held: TransformChunk[] = [];
  private heldLength = 0;
  // The framing of the inner chain's output while waiting for its first command.
  /** Bytes of the current packet still to come. */
  private left = 0;
  /** The start of a header the last chunk ended inside (not emitted yet). */
  private partial: TransformChunk | null = null;
  // The answers.
  /** Answers still to come. */
  private due: number;
  private refusedCount = 0;
  /** Answer bytes read and not yet a whole packet. */
  private answers: Buffer = Buffer.alloc(0);
  private emitOut: (c: TransformChunk) => void = noEmit;
  private readonly innerEmit = (c: TransformChunk): void => this.fromInner(c);

  constructor(
    private readonly inner: StreamTransform,
    private readonly o: StatePreambleOptions,
  ) {
    this.due = o.commands.length;
    this.phase = this.due === 0 ? 'done' : 'before';
  }

  get replyPayloadBytes(): number {
    return this.phase === 'answers'
      ? Math.max(PREAMBLE_REPLY_BYTES, this.inner.replyPayloadBytes)
      : this.inner.replyPayloadBytes;
  }

  get heldBytes(): number {
    const last = this.held[this.held.length - 1];
    return this.inner.heldBytes + this.heldLength + (this.partial?.data.length ?? 0) + (last?.fin === true ? 1 : 0);
  }

  get deadlineMs(): number {
    return this.inner.deadlineMs ?? Infinity;
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    this.emitOut = emit;
    this.inner.clientChunk(c, this.innerEmit);
  }

  targetReply(
    prefix: Buffer | undefined,
    payloadLength: number,
    inOrder: boolean,
    emit: (c: TransformChunk) => void,
    freshBytes?: number,
  ): void {
    this.emitOut = emit;
    if (this.phase !== 'answers') {
      this.inner.targetReply(prefix, payloadLength, inOrder, this.innerEmit, freshBytes);
      return;
    }
    // Nothing but the preamble was sent since the login's OK: the whole reply answers it. A reply that
    // repeats bytes seen before (not in order, fewer fresh bytes) brings its fresh ones; one after a
    // gap (more fresh bytes than it carries) cannot be read.
    const fresh = freshBytes ?? (inOrder ? payloadLength : -1);
    if (prefix === undefined || fresh < 0 || fresh > payloadLength || prefix.length < payloadLength) {
      this.loseAnswers();
      return;
    }
    if (this.answers.length > MAX_ANSWER_BYTES) {
      this.loseAnswers();
      return;
    }
    const skip = payloadLength - fresh;
    const bytes = prefix.subarray(skip, payloadLength);
    this.answers = this.answers.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.answers, bytes]);
    let pos = 0;
    while (this.due > 0 && this.answers.length - pos >= HEADER) {
      const len = this.answers.readUIntLE(pos, 3);
      if (this.answers[pos + 3] !== 1) {
        this.loseAnswers();
        return;
      }
      if (this.answers.length - pos < HEADER + len) break;
      const payload = this.answers.subarray(pos + HEADER, pos + HEADER + len);
      if (payload[0] === 0xff) {
        this.refusedCount++;
        const err = parseErr(payload);
        if (err.kind === 'err') this.o.refused(err);
      }
      this.due--;
      pos += HEADER + len;
    }
    this.answers = this.answers.subarray(pos);
    if (this.due === 0) {
      this.o.done(this.refusedCount);
      this.finish();
    }
  }

  onlineReply(payload: Uint8Array, emit: (c: TransformChunk) => void): void {
    this.emitOut = emit;
    this.inner.onlineReply?.(payload, this.innerEmit);
  }

  resume(emit: (c: TransformChunk) => void, nowMs?: number): void {
    this.emitOut = emit;
    this.inner.resume?.(this.innerEmit, nowMs);
  }

  /** A chunk the inner chain emits, in its numbering. */
  private fromInner(chunk: TransformChunk): void {
    if (this.phase === 'done') {
      this.emitOut(this.delta === 0 ? chunk : { ...chunk, seq: seqAdd(chunk.seq, this.delta) });
      return;
    }
    if (this.phase === 'answers') {
      this.hold(chunk);
      return;
    }
    let c = chunk;
    if (this.partial !== null) {
      c = { ...c, seq: this.partial.seq, data: Buffer.concat([this.partial.data, c.data]) };
      this.partial = null;
    }
    const d = c.data;
    let i = 0;
    for (;;) {
      if (this.left > 0) {
        const n = Math.min(this.left, d.length - i);
        this.left -= n;
        i += n;
      }
      if (i >= d.length) {
        this.emitOut(c);
        return;
      }
      if (d.length - i < HEADER) {
        // A header cut by the chunk's end: kept until its sequence id is known (unless nothing follows).
        if (c.fin) {
          this.emitOut(c);
          return;
        }
        if (i > 0) this.emitOut({ ...c, data: d.subarray(0, i) });
        this.partial = { ...c, seq: seqAdd(c.seq, i), data: Buffer.from(d.subarray(i)) };
        return;
      }
      if (d[i + 3] === 0) break;
      this.left = d.readUIntLE(i, 3);
      i += HEADER;
    }
    // The first command starts at i: the preamble goes before it, when the login went through.
    if (!this.o.loginAccepted()) {
      this.phase = 'done';
      this.emitOut(c);
      return;
    }
    if (i > 0) this.emitOut({ ...c, data: d.subarray(0, i), fin: false });
    const start = seqAdd(c.seq, i);
    const preamble = Buffer.concat(this.o.commands.map((p) => encodePacket(0, p)));
    this.emitOut({ seq: start, data: preamble, fin: false, onlineAck: c.onlineAck, capturedMs: c.capturedMs });
    this.delta = preamble.length;
    this.phase = 'answers';
    this.hold(i === 0 ? c : { ...c, seq: start, data: d.subarray(i) });
  }

  private hold(c: TransformChunk): void {
    this.held.push(c);
    this.heldLength += c.data.length;
  }

  /**
   * The answers cannot be read: the transforms inside are told their reply stream is broken (a reply
   * not in order: the statement-id walk stops mapping; the write order's byte count may then run
   * ahead by the answers still to come), and what was held goes.
   */
  private loseAnswers(): void {
    this.o.lost();
    this.inner.targetReply(undefined, 0, false, this.innerEmit, 0);
    this.finish();
  }

  /** The answers are in (or cannot be read): what was held goes, moved past the preamble. */
  private finish(): void {
    this.phase = 'done';
    const held = this.held;
    this.held = [];
    this.heldLength = 0;
    for (const c of held) this.emitOut({ ...c, seq: seqAdd(c.seq, this.delta) });
  }
}

function noEmit(): void {
  throw new Error('MysqlStatePreamble: emit used outside a call');
}
