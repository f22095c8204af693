// One session's exchanges when it is not HTTP/1.x: turn-taking. A turn is what the client sends until
// the server answers, and what the server sends until the client speaks again (a greeting the server
// sends first is a turn without a request). Online, the turns are cut by the capture order; on the
// target, by what it had received and how much it answered: a reply byte cannot answer a request the
// target had not received when it sent it (its ACK), and the target moves from a turn to the next
// one it received once it sent that turn at least as many bytes as online did. (tcpcopy may send the
// next request while a long answer is still on its way: the segments of that answer then carry the
// ACK of the next request too.) Each turn's two answers are
// compared by byte count and SHA-1 digest (by count alone where intercept forwarded only a prefix).
// Pure: times are inputs, as in exchanges.ts.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Difference } from './diff.js';
import type { ExchangeResult } from './report.js';

/** What every non-HTTP turn is reported under. */
export const STREAM_ENDPOINT = 'TCP';

class Answer {
  bytes = 0;
  firstMs = -1;
  private hash: Hash | null = null;
  private gap = false;

  add(data: Uint8Array, nowMs: number): void {
    if (data.length === 0) return;
    if (this.firstMs < 0) this.firstMs = nowMs;
    this.bytes += data.length;
    if (!this.gap) (this.hash ??= createHash('sha1')).update(data);
  }

  skip(n: number, nowMs: number): void {
    if (n <= 0) return;
    if (this.firstMs < 0) this.firstMs = nowMs;
    this.bytes += n;
    this.gap = true;
    this.hash = null;
  }

  /** Hex digest, null when bytes were not seen. */
  digest(): string | null {
    return this.gap || this.hash === null ? null : this.hash.digest('hex');
  }
}

/** The first bytes of a request, printable (`\r\n` and other controls escaped), for examples. */
export function printableHead(data: Uint8Array, max = 48): string {
  let s = '';
  for (let i = 0; i < data.length && s.length < max; i++) {
    const c = data[i]!;
    s +=
      c >= 0x20 && c < 0x7f && c !== 0x5c
        ? String.fromCharCode(c)
        : c === 0x0d
          ? '\\r'
          : c === 0x0a
            ? '\\n'
            : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** ms ≥ 0, to the µs. */
function micro(ms: number): number {
  return Math.max(0, Math.round(ms * 1000) / 1000);
}

interface Turn {
  /** The request's first bytes, printable. */
  head: string;
  /** Client stream offset just past its request (0: a greeting). */
  reqEnd: number;
  /** Capture time of the request's last byte (-1: a greeting). */
  capturedMs: number;
  /** When the request's last byte went to the target (-1: not yet). */
  sentMs: number;
  readonly online: Answer;
  readonly target: Answer;
}

export class StreamExchanges {
  private readonly turns: Turn[] = [];
  /** Client stream offset reached (bytes and gaps). */
  private clientOffset = 0;
  private sentOffset = 0;
  private sentMs = -1;
  /** The client stream offset the target acknowledged last (the most it had received). */
  private targetAcked = 0;
  /** Index in `turns` of the turn the target is answering. */
  private tt = 0;
  private atExit = false;
  /** More open turns than this: the session is given up. */
  given = false;

  constructor(
    private readonly maxTurns: number,
    private readonly emit: (r: ExchangeResult) => void,
  ) {}

  private last(): Turn | undefined {
    return this.turns[this.turns.length - 1];
  }

  private newTurn(capturedMs: number): Turn {
    const t: Turn = {
      head: '',
      reqEnd: this.clientOffset,
      capturedMs,
      sentMs: -1,
      online: new Answer(),
      target: new Answer(),
    };
    this.turns.push(t);
    if (this.turns.length > this.maxTurns) this.given = true;
    return t;
  }

  clientBytes(data: Uint8Array, capturedMs: number): void {
    this.clientSkip(data.length, capturedMs, data);
  }

  /** `n` client bytes (their first bytes in `data` when seen; a gap without). */
  clientSkip(n: number, capturedMs: number, data?: Uint8Array): void {
    if (this.given || n <= 0) return;
    let t = this.last();
    // The client speaks again after the server answered: a new turn.
    if (t === undefined || t.online.bytes > 0 || t.reqEnd === 0) t = this.newTurn(capturedMs);
    if (t.head.length < 48 && data !== undefined) t.head = (t.head + printableHead(data)).slice(0, 48);
    this.clientOffset += n;
    t.reqEnd = this.clientOffset;
    t.capturedMs = capturedMs;
    t.sentMs = this.sentOffset >= t.reqEnd ? this.sentMs : -1;
  }

  onlineBytes(data: Uint8Array, capturedMs: number): void {
    if (this.given) return;
    (this.last() ?? this.newTurn(-1)).online.add(data, capturedMs);
    this.pair(false);
  }

  onlineGap(n: number, capturedMs: number): void {
    if (this.given) return;
    (this.last() ?? this.newTurn(-1)).online.skip(n, capturedMs);
  }

  /** A target segment acknowledged the client stream up to `offset`: it had received that much. */
  targetAck(offset: number): void {
    if (offset <= this.targetAcked) return;
    this.targetAcked = offset;
    this.moveOn(this.lastReceived(offset));
    this.pair(false);
  }

  /** Target reply bytes, sent by the target when it had received the client stream up to `ackOffset`. */
  targetBytes(data: Uint8Array, nowMs: number, ackOffset: number): void {
    if (this.given) return;
    let at = 0;
    while (at < data.length) {
      const take = this.targetSplit(ackOffset, data.length - at);
      if (take === 0) return;
      this.turns[this.tt]!.target.add(data.subarray(at, at + take), nowMs);
      at += take;
    }
  }

  targetGap(n: number, nowMs: number, ackOffset: number): void {
    if (this.given) return;
    while (n > 0) {
      const take = this.targetSplit(ackOffset, n);
      if (take === 0) return;
      this.turns[this.tt]!.target.skip(take, nowMs);
      n -= take;
    }
  }

  /**
   * Of `n` target bytes sent at `ackOffset`, how many go to the turn `tt` now points at: up to online's
   * count when a later turn was received (one segment may end an answer and start the next), else all.
   */
  private targetSplit(ackOffset: number, n: number): number {
    const max = this.lastReceived(ackOffset);
    if (max < 0) return 0;
    this.moveOn(max);
    const t = this.turns[this.tt];
    if (t === undefined) return 0;
    if (this.tt >= max || t.target.bytes >= t.online.bytes) return n;
    return Math.min(n, t.online.bytes - t.target.bytes);
  }

  sentUpTo(offset: number, nowMs: number): void {
    if (offset <= this.sentOffset) return;
    this.sentOffset = offset;
    this.sentMs = nowMs;
    for (const t of this.turns) if (t.sentMs < 0 && t.reqEnd > 0 && t.reqEnd <= offset) t.sentMs = nowMs;
  }

  /** The session ended: every open turn is reported (`atExit`: an unanswered one as unfinished). */
  finish(atExit = false): void {
    this.atExit = atExit;
    if (!this.given) this.pair(true);
    this.turns.length = 0;
  }

  /** The last open turn whose request the target had wholly received at `ackOffset` (-1: none; a greeting at 0). */
  private lastReceived(ackOffset: number): number {
    let i = this.turns.length - 1;
    while (i >= 0 && this.turns[i]!.reqEnd > ackOffset) i--;
    return i;
  }

  /** The target moves to a later received turn (up to `max`) once it sent the current one online's count. */
  private moveOn(max: number): void {
    while (this.tt < max) {
      const t = this.turns[this.tt]!;
      if (t.target.bytes < t.online.bytes || t.target.bytes === 0) return;
      this.tt++;
    }
  }

  /** Reports the turns the target has moved past (all of them at the end). */
  private pair(all: boolean): void {
    while (this.turns.length > 0 && (all || this.tt > 0)) {
      this.report(this.turns.shift()!);
      if (this.tt > 0) this.tt--;
    }
  }

  private report(t: Turn): void {
    const o = t.online;
    const g = t.target;
    if (o.bytes === 0 && g.bytes === 0) return;
    const differences: Difference[] = [];
    if (o.bytes > 0 && g.bytes > 0) {
      if (o.bytes !== g.bytes) differences.push({ kind: 'bytes', online: String(o.bytes), target: String(g.bytes) });
      else {
        const a = o.digest();
        const b = g.digest();
        if (a !== null && b !== null && a !== b)
          differences.push({ kind: 'digest', online: a.slice(0, 12), target: b.slice(0, 12) });
      }
    }
    const greeting = t.reqEnd === 0;
    this.emit({
      outcome:
        g.bytes === 0
          ? this.atExit
            ? 'unfinished'
            : 'missing-target'
          : o.bytes === 0
            ? 'missing-online'
            : differences.length > 0
              ? 'different'
              : 'identical',
      endpoint: greeting ? `${STREAM_ENDPOINT} greeting` : STREAM_ENDPOINT,
      target: greeting ? '(greeting)' : t.head,
      differences,
      onlineMs: greeting || o.firstMs < 0 || g.bytes === 0 ? -1 : micro(o.firstMs - t.capturedMs),
      targetMs: greeting || g.firstMs < 0 || t.sentMs < 0 || o.bytes === 0 ? -1 : micro(g.firstMs - t.sentMs),
    });
  }
}
