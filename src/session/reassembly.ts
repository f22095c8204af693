// Client-stream reassembly: turns captured client segments (in any order, with retransmissions and
// overlaps) into one contiguous, duplicate-free run of chunks; gaps the capture never fills are
// skipped on request, shifting later sequence numbers down so the target sees no hole.

import { seqAdd, seqDiff } from './seq.js';

/** A contiguous piece of the client's stream, in the target's numbering (client seq − skipped bytes). */
export interface StreamChunk {
  seq: number;
  data: Buffer;
  fin: boolean;
  /** The captured client's acknowledgement number: how much of the online server's reply it had. */
  onlineAck: number;
  /** When the bytes were captured (the engine's ms clock): the replication lag is measured from it. */
  capturedMs: number;
}

interface HeldSegment {
  seq: number;
  data: Buffer;
  fin: boolean;
  onlineAck: number;
  capturedMs: number;
}

/**
 * A copy of captured bytes that may be held for long (a backlog behind a slow target) in memory of
 * its own. `Buffer.from` copies small data into Node's shared 8 KB pool slabs, and a held copy keeps
 * its whole slab alive: measured, keeping one 100-byte copy in 50 held 100 MB of slabs for 2 MB of
 * data, and tcpcopy's resident set reached 488 MB under -m 160 behind a slow target. Not for the
 * common path (a chunk sent at once and freed when acknowledged): a buffer of its own costs about
 * 100 heap bytes and 10 % of the engine's time per request (bench/engine.ts).
 */
export function ownCopy(data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafeSlow(data.length);
  b.set(data);
  return b;
}

export type InsertResult = 'inOrder' | 'outOfOrder' | 'duplicate' | 'overlap' | 'afterFin';

export class Reassembler {
  /** Next client sequence number expected from the capture. */
  private next: number;
  /** Bytes skipped so far: target seq = client seq − shift. */
  private shift = 0;
  private finSeen = false;
  private readonly held: HeldSegment[] = [];
  private heldBytesCount = 0;
  /** When the current gap started (−1: no gap). */
  private gapSince = -1;

  constructor(firstSeq: number) {
    this.next = firstSeq;
  }

  get heldBytes(): number {
    return this.heldBytesCount;
  }

  get hasGap(): boolean {
    return this.held.length > 0;
  }

  /** When the current gap is to be skipped; +Infinity when there is no gap. */
  gapDeadlineMs(waitMs: number): number {
    return this.gapSince < 0 ? Infinity : this.gapSince + waitMs;
  }

  /**
   * Adds one captured segment; contiguous data is handed to `deliver` in order. `data` may be a view
   * into a reused capture buffer: what is kept (delivered or held) is copied.
   */
  insert(
    seq: number,
    data: Uint8Array,
    fin: boolean,
    onlineAck: number,
    nowMs: number,
    deliver: (c: StreamChunk) => void,
  ): InsertResult {
    if (this.finSeen) return 'afterFin';
    const len = data.length + (fin ? 1 : 0);
    const end = seqAdd(seq, len);
    if (len === 0 || seqDiff(end, this.next) <= 0) return 'duplicate';
    if (seqDiff(seq, this.next) > 0) {
      this.hold({ seq, data: ownCopy(data), fin, onlineAck, capturedMs: nowMs }, nowMs);
      return 'outOfOrder';
    }
    const overlap = seqDiff(this.next, seq);
    this.accept(seq, data, fin, onlineAck, nowMs, deliver);
    this.drainHeld(nowMs, deliver);
    return overlap > 0 ? 'overlap' : 'inOrder';
  }

  /** Drops every held segment (the session ended). */
  clear(): void {
    this.held.length = 0;
    this.heldBytesCount = 0;
    this.gapSince = -1;
  }

  /** Gives up on the current gap: later bytes move down over it. Returns the bytes skipped (0: no gap). */
  skipGap(nowMs: number, deliver: (c: StreamChunk) => void): number {
    const first = this.held[0];
    if (!first) return 0;
    const gap = seqDiff(first.seq, this.next);
    this.shift = seqAdd(this.shift, gap);
    this.next = first.seq;
    this.drainHeld(nowMs, deliver);
    return gap;
  }

  private hold(s: HeldSegment, nowMs: number): void {
    let i = this.held.length;
    while (i > 0 && seqDiff(this.held[i - 1]!.seq, s.seq) > 0) i--;
    const same = this.held[i - 1];
    if (same && same.seq === s.seq) {
      if (same.data.length + (same.fin ? 1 : 0) >= s.data.length + (s.fin ? 1 : 0)) return;
      this.heldBytesCount -= same.data.length;
      this.held.splice(i - 1, 1);
      i--;
    }
    this.held.splice(i, 0, s);
    this.heldBytesCount += s.data.length;
    if (this.gapSince < 0) this.gapSince = nowMs;
  }

  private accept(
    seq: number,
    data: Uint8Array,
    fin: boolean,
    onlineAck: number,
    capturedMs: number,
    deliver: (c: StreamChunk) => void,
  ): void {
    const skip = seqDiff(this.next, seq);
    const body = skip > 0 ? data.subarray(Math.min(skip, data.length)) : data;
    const kept = Buffer.from(body);
    deliver({ seq: seqAdd(this.next, -this.shift), data: kept, fin, onlineAck, capturedMs });
    this.next = seqAdd(this.next, kept.length + (fin ? 1 : 0));
    if (fin) this.finSeen = true;
  }

  private drainHeld(nowMs: number, deliver: (c: StreamChunk) => void): void {
    while (this.held.length > 0 && !this.finSeen) {
      const h = this.held[0]!;
      if (seqDiff(h.seq, this.next) > 0) break;
      this.held.shift();
      this.heldBytesCount -= h.data.length;
      const end = seqAdd(h.seq, h.data.length + (h.fin ? 1 : 0));
      if (seqDiff(end, this.next) > 0) this.accept(h.seq, h.data, h.fin, h.onlineAck, h.capturedMs, deliver);
    }
    if (this.finSeen) {
      this.held.length = 0;
      this.heldBytesCount = 0;
    }
    this.gapSince = this.held.length > 0 ? nowMs : -1;
  }
}
