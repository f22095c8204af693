// The statements a session prepared online, as the write order needs them (what executing one
// writes). A pass-through StreamTransform at the head of the session's chain: it reads the captured
// client stream as it comes, before any transform holds it, so a prepare is read before the online
// server's answer to it arrives (onlineReply). The write order (order.ts) sits after the login and
// the statement-id transforms, which hold commands back; read from there, a prepare often comes after
// its online answer and could not be matched with it. Pure.
//
// The online server's first packet after a prepare is its answer: a PREPARE_OK (the statement's id)
// at sequence id 1, or anything else (an ERR: nothing prepared). It also notes which commands the
// online server answered with an ERR (a write that failed online, a deadlock's victim, wrote
// nothing: nobody need wait for it), by their number in the session (0: the first command).

import { COM_STMT_PREPARE, placeholderCount, statementWrites, writeTargetOf } from '../mysql/index.js';
import type { WriteTarget } from '../mysql/index.js';
import type { StreamTransform, TransformChunk } from '../session/index.js';

/** A statement prepared online: what an execution writes (its placeholders bound per execution). */
export interface PreparedWrite {
  readonly writes: WriteTarget | null;
  readonly params: number;
  /** Parameter types last bound (an execution may leave them out); kept by the reader of executions. */
  types: Buffer | null;
}

/** Statements remembered per session; past it the oldest are forgotten (executions: may write anything). */
export const MAX_PREPARED = 4096;
/** Bytes of a prepare's text read (enough for a write's table and its WHERE or VALUES). */
const TEXT_BYTES = 512;
const HEADER = 4;

export class MysqlPrepareCatalog implements StreamTransform {
  readonly replyPayloadBytes = 0;
  readonly heldBytes = 0;
  private readonly byOnline = new Map<number, PreparedWrite>();
  /** Bytes of the current packet still to come after its header (−1: framing lost, read no more). */
  private packetLeft = 0;
  private header: number[] = [];
  /** A prepare's text being collected (null: not in a prepare). */
  private text: Buffer[] | null = null;
  private textLeft = 0;
  /** The next byte is a command's first (its kind). */
  private atCommand = false;
  /** The text of the last command when it is a prepare whose online answer is still to come. */
  private preparing: string | null = null;
  /** Commands read so far; the last one's answer is the next online answer. */
  private commands = 0;
  /** The last command's online answer was seen. */
  private answered = true;
  /** Numbers of commands answered online with an ERR, not yet asked for (failedOnline). */
  private readonly failed = new Set<number>();

  /** `framed`: whether the client stream is still MySQL packets (false once it went TLS). */
  constructor(private readonly framed: () => boolean) {}

  /** The statement the online server numbered `onlineId` in this session, when its answer was seen. */
  get(onlineId: number): PreparedWrite | undefined {
    return this.byOnline.get(onlineId);
  }

  /** Whether command number `n` of the session was answered online with an ERR (asked once each). */
  failedOnline(n: number): boolean {
    return this.failed.delete(n);
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    if (c.data.length > 0 && this.packetLeft >= 0) this.read(c.data);
    emit(c);
  }

  targetReply(): void {}

  onlineReply(payload: Uint8Array): void {
    if (!this.answered) {
      this.answered = true;
      // A segment holding one ERR packet (sequence id 1) and nothing else: the answer to the last command.
      const len = payload.length >= HEADER ? payload[0]! | (payload[1]! << 8) | (payload[2]! << 16) : -1;
      if (len >= 3 && payload.length === HEADER + len && payload[3] === 1 && payload[4] === 0xff) {
        if (this.failed.size >= MAX_PREPARED) this.failed.delete(this.failed.values().next().value as number);
        this.failed.add(this.commands - 1);
      }
    }
    const sql = this.preparing;
    if (sql === null) return;
    this.preparing = null;
    if (payload.length < HEADER + 12 || payload[3] !== 1 || payload[4] !== 0) return;
    if ((payload[0]! | (payload[1]! << 8) | (payload[2]! << 16)) !== 12) return;
    const id = Buffer.from(payload.buffer, payload.byteOffset + 5, 4).readUInt32LE(0);
    this.byOnline.delete(id);
    if (this.byOnline.size >= MAX_PREPARED) this.byOnline.delete(this.byOnline.keys().next().value as number);
    this.byOnline.set(id, {
      writes: statementWrites(sql) ? writeTargetOf(sql) : null,
      params: placeholderCount(sql),
      types: null,
    });
  }

  /** Follows the packets of the client stream; collects the text of each prepare. */
  private read(d: Buffer): void {
    if (!this.framed()) {
      this.packetLeft = -1;
      this.preparing = null;
      return;
    }
    let i = 0;
    while (i < d.length) {
      if (this.text !== null && this.textLeft > 0) {
        const n = Math.min(this.textLeft, d.length - i);
        this.text.push(d.subarray(i, i + n));
        this.textLeft -= n;
        this.packetLeft -= n;
        i += n;
        if (this.textLeft === 0) this.textRead();
        continue;
      }
      if (this.atCommand) {
        // Only a prepare's text is collected.
        this.atCommand = false;
        this.packetLeft--;
        if (d[i++] === COM_STMT_PREPARE) {
          this.text = [];
          this.textLeft = Math.min(this.packetLeft, TEXT_BYTES);
          if (this.textLeft === 0) this.textRead();
        }
        continue;
      }
      if (this.packetLeft > 0) {
        const n = Math.min(this.packetLeft, d.length - i);
        this.packetLeft -= n;
        i += n;
        continue;
      }
      this.header.push(d[i]!);
      i++;
      if (this.header.length < HEADER) continue;
      const [b0, b1, b2, seqId] = this.header as [number, number, number, number];
      this.header = [];
      this.packetLeft = b0 | (b1 << 8) | (b2 << 16);
      // Commands have sequence id 0; any command ends the wait for a prepare's answer.
      if (seqId !== 0) continue;
      this.preparing = null;
      this.commands++;
      this.answered = false;
      this.atCommand = this.packetLeft > 0;
    }
  }

  private textRead(): void {
    const t = this.text ?? [];
    this.text = null;
    this.preparing = (t.length === 1 ? t[0]! : Buffer.concat(t)).toString('latin1');
  }
}
