// The MySQL mode's write order for one session (a StreamTransform after the login's). Sessions
// replayed side by side may take row locks in another order than online did, and two writes of one
// row with values that do not commute then leave other rows on the target. So each write is held
// until every write of another session that may touch the same row (write-keys.ts) and was answered
// online before it is answered on the target. Pure: time comes from the captured chunks and resume().
//
// - Online order: a command's online answer is seen when its session's next command is captured;
//   the WriteOrderBook numbers those answers across sessions. A write captured while another
//   session's write of the same row is still in flight online waits for its own answer (which of
//   the two went first); any other write goes after the writes answered online so far.
// - Target answers are matched by size: the online server had sent R bytes when the client sent its
//   next command (that command's ack), and a write counts as answered on the target once the target
//   sent as many reply bytes, both counted from the first command after the login.
// - Bounds: a write whose own answer is not seen within EVIDENCE_WAIT_MS (the client went quiet)
//   goes after the writes answered so far; a wait for another session longer than ORDER_WAIT_MS ends
//   (counted): replies of another size (the data already differs) or a lock cycle the online order
//   did not have must not stop the replay.

import {
  ANY_ROW,
  COM_QUERY,
  COM_STMT_EXECUTE,
  COM_STMT_PREPARE,
  bindRow,
  executeParam,
  placeholderCount,
  statementWrites,
  writeTargetOf,
} from '../mysql/index.js';
import type { WriteTarget } from '../mysql/index.js';
import { seqAdd, seqDiff } from '../session/index.js';
import type { StreamTransform, TransformChunk } from '../session/index.js';
import type { WriteOrderBook } from './order-book.js';

/** How long a write waits for another session's write to be answered on the target. */
export const ORDER_WAIT_MS = 1000;
/** How long a write waits for its own online answer (the client's next command) before it goes anyway. */
export const EVIDENCE_WAIT_MS = 1000;
/** Bytes of a command read to tell whether it writes (its verb, a locking clause in a short query). */
const HEAD_BYTES = 512;
const HEADER = 4;

/** A command start in the client stream. */
interface Mark {
  /**
   * Sequence number of its first header byte in this transform's input (the tail's: after the login
   * and statement-id transforms); null until the command reached the tail.
   */
  seq: number | null;
  /** What it may write, or null when it writes nothing. */
  readonly writes: WriteTarget | null;
  /**
   * A write's entry in the book once its online answer was seen (its session's next command was
   * captured): it waits for the other sessions' entries before it. −1 until then.
   */
  entry: number;
  readonly capturedMs: number;
}

/** A statement prepared online: what an execution writes (its placeholders bound per execution). */
interface PreparedWrite {
  readonly writes: WriteTarget | null;
  readonly params: number;
  /** Parameter types last bound (an execution may leave them out). */
  types: Buffer | null;
}

/** Statements remembered per session; past it the oldest are forgotten (executions: may write anything). */
export const MAX_PREPARED = 4096;

export interface MysqlOrderOptions {
  readonly book: WriteOrderBook;
  /** Asks the engine to call resume() soon (a write this session waited for was answered). */
  readonly wake: () => void;
  /** Whether the login transform still follows MySQL framing (false: TLS or bytes it gave up on). */
  readonly framed: () => boolean;
  /**
   * Every write waits for its own online answer (captured: --mysql-order-writes captures every OK and
   * ERR), not only one captured while another session's write of its row was in flight: the server
   * may answer two writes of one row in another order than they arrived (the first one waited for a
   * lock, or its thread ran later), and a write sent on at capture cannot be called back.
   */
  readonly ownAnswer?: boolean;
}

export class MysqlOrderTransform implements StreamTransform {
  /**
   * The reading side, a pass-through for the head of the session's chain: commands are read (and
   * their online order filed in the book) as they are captured. Read behind the login and
   * statement-id transforms, which hold commands back (until the target accepted the login, until
   * it answered a prepare), a session's writes would reach the book late, and another session's
   * write of the same row, answered online after them, would not wait for them.
   */
  readonly reader: StreamTransform = {
    replyPayloadBytes: 0,
    heldBytes: 0,
    clientChunk: (c, emit) => {
      if (c.capturedMs > this.latestMs) this.latestMs = c.capturedMs;
      if (c.data.length > 0) this.read(c);
      emit(c);
    },
    targetReply: () => undefined,
    onlineReply: (payload) => this.onlineAnswer(payload),
  };
  readonly replyPayloadBytes = 0;
  private readonly id: number;

  // ---- reading the client stream (at capture) ----
  /** Bytes of the current packet still to come after its header (−1: lost framing, pass all). */
  private packetLeft = 0;
  /** A header (or a command head) being collected across chunks. */
  private headerBytes: number[] = [];
  private collectingHead = false;
  private headLeft = 0;
  private head: Buffer[] = [];
  private headMs = 0;
  /** What the session's previous command may write (null: nothing, or no command yet). */
  private previousWrites: WriteTarget | null = null;
  /** Statements the session prepared, by online id (read at capture: the ids are online's there). */
  private readonly prepared = new Map<number, PreparedWrite>();
  /** The text of the last command when it is a prepare whose online answer is still to come. */
  private preparing: string | null = null;
  /** The online bytes the client had received when it sent its last command. */
  private lastCommandAck = 0;
  /** The last command's online answer was seen (captured), not to be taken from the next command. */
  private answerSeen = true;
  /** Command starts captured and not yet released, oldest first. */
  private readonly marks: Mark[] = [];
  /** Marks at the front of `marks` whose command reached the tail (their seq known). */
  private located = 0;
  /** The tail's framing of its input: bytes of the current packet still to come, a header being read. */
  private tailLeft = 0;
  private tailHeader: number[] = [];
  private tailHeaderSeq = 0;
  /** Target reply bytes are counted from the first command's arrival at the tail on. */
  private counting = false;
  /** The newest mark filed (its entry comes with the next command). */
  private lastMark: Mark | null = null;
  /** The client closed its side: a write waiting for its online answer waits no more. */
  private clientDone = false;

  // ---- answers ----
  private onlineBase: number | null = null;
  private targetBase = 0;
  private targetBytes = 0;
  /** Its entries in the book, oldest first: number, and the online reply bytes up to their answer. */
  private readonly entries: Array<{ readonly n: number; readonly bytes: number }> = [];

  // ---- holding ----
  private held: TransformChunk[] = [];
  private heldLength = 0;
  private waitingFor = -1;
  private blockedSinceMs = -1;
  private latestMs = 0;
  private evidenceDeadline = Infinity;

  constructor(private readonly o: MysqlOrderOptions) {
    this.id = o.book.newSession();
  }

  get heldBytes(): number {
    return this.heldLength + (this.held.length > 0 && this.held[this.held.length - 1]!.fin ? 1 : 0);
  }

  get deadlineMs(): number {
    return Math.min(this.evidenceDeadline, this.blockedSinceMs < 0 ? Infinity : this.blockedSinceMs + ORDER_WAIT_MS);
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    if (c.capturedMs > this.latestMs) this.latestMs = c.capturedMs;
    if (c.fin) this.clientDone = true;
    if (c.data.length > 0) this.locate(c);
    this.held.push(c);
    this.heldLength += c.data.length;
    this.release(emit, -1);
  }

  targetReply(
    _prefix: Buffer | undefined,
    _payloadLength: number,
    _inOrder: boolean,
    _emit: (c: TransformChunk) => void,
    freshBytes?: number,
  ): void {
    this.targetBytes += freshBytes ?? _payloadLength;
    this.answerEntries();
  }

  resume(emit: (c: TransformChunk) => void, nowMs?: number): void {
    if (nowMs !== undefined && nowMs > this.latestMs) this.latestMs = nowMs;
    this.release(emit, nowMs ?? -1);
  }

  /** The session is gone: nobody need wait for its writes any more. */
  close(): void {
    this.o.book.inFlight(this.id, null);
    for (const e of this.entries.splice(0)) this.o.book.giveUp(e.n);
  }

  // ---- reading ----

  /** Finds the command starts in a captured chunk (sequence id 0 packets) and files them. */
  private read(c: TransformChunk): void {
    if (this.packetLeft < 0) return;
    if (!this.o.framed()) {
      this.packetLeft = -1;
      return;
    }
    const d = c.data;
    let i = 0;
    while (i < d.length) {
      if (this.collectingHead) {
        const n = Math.min(this.headLeft, d.length - i);
        this.head.push(d.subarray(i, i + n));
        this.headLeft -= n;
        this.packetLeft -= n;
        i += n;
        if (this.headLeft === 0) this.fileCommand();
        continue;
      }
      if (this.packetLeft > 0) {
        const n = Math.min(this.packetLeft, d.length - i);
        this.packetLeft -= n;
        i += n;
        continue;
      }
      if (this.headerBytes.length === 0) this.headMs = c.capturedMs;
      this.headerBytes.push(d[i]!);
      i++;
      if (this.headerBytes.length < HEADER) continue;
      const [b0, b1, b2, seqId] = this.headerBytes as [number, number, number, number];
      this.headerBytes = [];
      this.packetLeft = b0 | (b1 << 8) | (b2 << 16);
      if (seqId !== 0) continue;
      // A command: its answer-evidence for the one before, then its head is read to classify it.
      this.commandStarts(c.onlineAck);
      this.collectingHead = true;
      this.headLeft = Math.min(this.packetLeft, HEAD_BYTES);
      this.head = [];
      if (this.headLeft === 0) this.fileCommand();
    }
  }

  /** A new command was captured: the one before it was answered online, when the client sent this. */
  private commandStarts(onlineAck: number): void {
    const seen = this.answerSeen;
    this.answerSeen = false;
    this.lastCommandAck = onlineAck;
    if (this.onlineBase === null) {
      this.onlineBase = onlineAck;
      return;
    }
    if (seen) return; // its entry was filed when its answer was captured
    if (this.previousWrites !== null) {
      this.o.book.inFlight(this.id, null);
      const n = this.o.book.push(this.id, this.previousWrites);
      this.entries.push({ n, bytes: seqDiff(onlineAck, this.onlineBase) });
      // Its mark (when still held: not released by the fallback) now knows its place in the online order.
      if (this.lastMark !== null && this.lastMark.entry < 0) this.lastMark.entry = n;
      this.answerEntries();
    }
  }

  private fileCommand(): void {
    this.collectingHead = false;
    const head = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [];
    const writes = this.writesOf(head);
    this.previousWrites = writes;
    // A write that may touch a row another session's write is writing online right now waits for
    // its own online answer (which of the two went first); any other goes after the writes answered
    // online so far.
    const book = this.o.book;
    const entry =
      writes === null || this.o.ownAnswer === true || book.inFlightConflict(this.id, writes) ? -1 : book.size;
    if (writes !== null) book.inFlight(this.id, writes);
    this.marks.push({ seq: null, writes, entry, capturedMs: this.headMs });
    this.lastMark = this.marks[this.marks.length - 1]!;
  }

  /**
   * A captured online answer (--mysql-order-writes captures every OK and ERR segment): the answer to
   * the session's last command, so a write takes its place in the online order when the server
   * answered it, not when its client sent the next command (another client may answer its own sooner
   * and would be taken for first). A segment that is not one whole OK or ERR packet is left to the
   * next command.
   */
  private onlineAnswer(payload: Uint8Array): void {
    if (this.answerSeen || this.onlineBase === null || payload.length < HEADER + 1) return;
    const len = payload[0]! | (payload[1]! << 8) | (payload[2]! << 16);
    const kind = payload[HEADER];
    if (this.preparing !== null) this.prepareAnswer(payload, len);
    if (payload.length !== HEADER + len || payload[3] !== 1 || (kind !== 0 && kind !== 0xff)) return;
    this.answerSeen = true;
    const writes = this.previousWrites;
    if (writes === null) return;
    const book = this.o.book;
    book.inFlight(this.id, null);
    if (kind === 0xff) {
      // It failed online: nothing to wait for; it goes after the writes answered so far.
      if (this.lastMark !== null && this.lastMark.entry < 0) this.lastMark.entry = book.size;
      return;
    }
    const n = book.push(this.id, writes);
    this.entries.push({ n, bytes: seqDiff(this.lastCommandAck, this.onlineBase) + payload.length });
    if (this.lastMark !== null && this.lastMark.entry < 0) this.lastMark.entry = n;
    this.answerEntries();
  }

  /**
   * The online answer to a prepare: a PREPARE_OK (length 12, sequence id 1, then 0x00 and the
   * statement's id; its parameter definitions may follow in the segment) or anything else (an ERR:
   * nothing prepared).
   */
  private prepareAnswer(payload: Uint8Array, len: number): void {
    const sql = this.preparing!;
    this.preparing = null;
    if (len !== 12 || payload.length < HEADER + 12 || payload[3] !== 1 || payload[HEADER] !== 0) return;
    const id = Buffer.from(payload.buffer, payload.byteOffset + HEADER + 1, 4).readUInt32LE(0);
    this.prepared.delete(id);
    if (this.prepared.size >= MAX_PREPARED) this.prepared.delete(this.prepared.keys().next().value as number);
    this.prepared.set(id, {
      writes: statementWrites(sql) ? writeTargetOf(sql) : null,
      params: placeholderCount(sql),
      types: null,
    });
  }

  /** What the command (its first bytes) may write; a prepare's text is kept for its online answer. */
  private writesOf(head: Buffer): WriteTarget | null {
    const cmd = head[0];
    this.preparing = cmd === COM_STMT_PREPARE ? head.toString('latin1', 1) : null;
    if (cmd === COM_QUERY) {
      const sql = head.toString('latin1', 1);
      return statementWrites(sql) ? writeTargetOf(sql) : null;
    }
    if (cmd !== COM_STMT_EXECUTE || head.length < 5) return null;
    const st = this.prepared.get(head.readUInt32LE(1));
    // An execution of a statement not known (its answer not captured): it may write anything.
    if (st === undefined) return ANY_ROW;
    if (st.writes === null) return null;
    return bindRow(st.writes, (i) => {
      const r = executeParam(head, st.params, i, st.types);
      st.types = r.types;
      return r.value;
    });
  }

  /**
   * Finds the command starts (sequence id 0 packets) in a chunk at the tail: the k-th is the k-th
   * command the reader filed (the transforms between change no command, only logins and ids).
   */
  private locate(c: TransformChunk): void {
    if (this.tailLeft < 0) return;
    if (!this.o.framed()) {
      // No longer MySQL packets: nothing more is held (the marks not yet here never come).
      this.tailLeft = -1;
      this.marks.splice(this.located);
      return;
    }
    const d = c.data;
    let i = 0;
    while (i < d.length) {
      if (this.tailLeft > 0) {
        const n = Math.min(this.tailLeft, d.length - i);
        this.tailLeft -= n;
        i += n;
        continue;
      }
      if (this.tailHeader.length === 0) this.tailHeaderSeq = seqAdd(c.seq, i);
      this.tailHeader.push(d[i]!);
      i++;
      if (this.tailHeader.length < HEADER) continue;
      const [b0, b1, b2, seqId] = this.tailHeader as [number, number, number, number];
      this.tailHeader = [];
      this.tailLeft = b0 | (b1 << 8) | (b2 << 16);
      if (seqId !== 0) continue;
      if (!this.counting) {
        // The first command: the target's replies so far answered the login.
        this.counting = true;
        this.targetBase = this.targetBytes;
      }
      const m = this.marks[this.located];
      if (m !== undefined) {
        m.seq = this.tailHeaderSeq;
        this.located++;
      }
    }
    this.answerEntries();
  }

  /** Entries whose online answer size the target's replies reached are answered there. */
  private answerEntries(): void {
    if (!this.counting) return;
    const got = this.targetBytes - this.targetBase;
    while (this.entries.length > 0 && this.entries[0]!.bytes <= got) this.o.book.answer(this.entries.shift()!.n);
  }

  // ---- releasing ----

  /** Emits what may go: everything up to the first write that must still wait. */
  private release(emit: (c: TransformChunk) => void, nowMs: number): void {
    for (;;) {
      if (this.held.length === 0) return;
      const mark = this.marks[0];
      const at = this.held[0]!.seq;
      if (mark !== undefined && mark.seq === at) {
        if (mark.writes !== null && !this.mayGo(mark, mark.writes, nowMs)) return;
        this.marks.shift();
        this.located--;
      }
      const next = this.marks[0];
      const upTo = next !== undefined && next.seq !== null && next.seq !== at ? seqDiff(next.seq, at) : -1;
      this.emitHeld(emit, upTo);
      if (upTo < 0) return;
    }
  }

  /**
   * Whether the write at `mark` may go now: once its online answer was seen, when every write of
   * another session answered online before it, that may touch the same row, is answered on the
   * target. A write whose answer is not seen within EVIDENCE_WAIT_MS (the client went quiet) goes
   * after the writes answered so far; one waiting for another session longer than ORDER_WAIT_MS
   * goes (counted).
   */
  private mayGo(mark: Mark, writes: WriteTarget, nowMs: number): boolean {
    const book = this.o.book;
    const now = Math.max(this.latestMs, nowMs);
    if (mark.entry < 0 && !this.clientDone) {
      if (now < mark.capturedMs + EVIDENCE_WAIT_MS) {
        this.evidenceDeadline = mark.capturedMs + EVIDENCE_WAIT_MS;
        return false;
      }
      mark.entry = book.size;
    }
    this.evidenceDeadline = Infinity;
    const need = mark.entry < 0 ? book.size : mark.entry;
    for (;;) {
      const b = book.blocker(this.id, need, writes);
      if (b < 0) {
        if (this.blockedSinceMs >= 0) book.counters.waitMs += Math.max(0, now - this.blockedSinceMs);
        this.blockedSinceMs = -1;
        this.waitingFor = -1;
        return true;
      }
      if (this.blockedSinceMs < 0) {
        this.blockedSinceMs = now;
        book.counters.waits++;
      }
      if (nowMs >= 0 && nowMs >= this.blockedSinceMs + ORDER_WAIT_MS) {
        book.giveUp(b, true);
        continue;
      }
      if (this.waitingFor !== b) {
        this.waitingFor = b;
        book.wait(b, this.o.wake);
      }
      return false;
    }
  }

  /** Emits the first `bytes` held (all of them when −1). */
  private emitHeld(emit: (c: TransformChunk) => void, bytes: number): void {
    if (bytes < 0) {
      for (const c of this.held) emit(c);
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
        emit(c);
      } else {
        const part: TransformChunk = { ...c, data: c.data.subarray(0, left), fin: false };
        c.seq = seqAdd(c.seq, left);
        c.data = c.data.subarray(left);
        this.heldLength -= left;
        left = 0;
        emit(part);
      }
    }
  }
}
