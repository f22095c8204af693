// The pacing rule, in one place (pure): when a captured client chunk starts a new request, and when
// the target has answered the previous one so the next may go. Session uses it towards the target;
// the socket transport's turn builder (src/replay/socket/streams.ts) cuts conversations into turns with the
// same request boundary. See README.md, "Pacing rule".

import { seqDiff } from './seq.js';

/**
 * True when a client chunk whose acknowledgement number is `chunkAck` starts a new request after the
 * one sent at `requestAck`: the real client had received more of the server's reply when it sent
 * it. Equal acks continue (or pipeline) the same request.
 */
export function startsNewRequest(chunkAck: number, requestAck: number): boolean {
  return seqDiff(chunkAck, requestAck) > 0;
}

export class ResponsePacer {
  /** Captured ack of the last request released (the online server's position). */
  private base = 0;
  private baseKnown: boolean;
  /** Response bytes from the target, and whether one of its segments carried PSH or FIN, since the last release. */
  private responseBytes = 0;
  private pushed = false;
  private markMs: number;

  /** `initialAck`: the online position when it is known at creation (a joined session's first ack), else null. */
  constructor(nowMs: number, initialAck: number | null) {
    this.baseKnown = initialAck !== null;
    this.base = initialAck ?? 0;
    this.markMs = nowMs;
  }

  get knowsBase(): boolean {
    return this.baseKnown;
  }

  /** The ack of the last request released (0 while unknown): what a chunk without an ACK flag is filed under. */
  get baseAck(): number {
    return this.base;
  }

  /** The first acknowledgement seen from the captured client (its handshake ACK) fixes the base. */
  learnBase(ack: number): void {
    if (this.baseKnown) return;
    this.base = ack;
    this.baseKnown = true;
  }

  /** A chunk with this ack must wait for the previous response (false while the base is unknown). */
  holds(chunkAck: number): boolean {
    return this.baseKnown && startsNewRequest(chunkAck, this.base);
  }

  /** Fresh response bytes from the target; `push`: the segment carried PSH (or ended the stream). */
  onResponse(freshBytes: number, push: boolean): void {
    this.responseBytes += freshBytes;
    if (push) this.pushed = true;
  }

  /**
   * The previous request is answered (given that the target acknowledged every byte sent): the target
   * sent at least as many response bytes as the real client had received before this chunk, or a
   * response segment carried PSH/FIN, or (fallback) it has been quiet for `quietMs`.
   */
  answered(nowMs: number, chunkAck: number, lastTargetMs: number, quietMs: number): boolean {
    if (this.responseBytes >= seqDiff(chunkAck, this.base) || this.pushed) return true;
    return nowMs >= this.quietDeadline(lastTargetMs, quietMs);
  }

  /** When the quiet-period fallback releases the held request. */
  quietDeadline(lastTargetMs: number, quietMs: number): number {
    return Math.max(this.markMs, lastTargetMs) + quietMs;
  }

  /** The chunk is sent: it is the new request (or, with the base unknown, it fixes the base). */
  release(chunkAck: number, nowMs: number): void {
    this.base = chunkAck;
    this.baseKnown = true;
    this.restart(nowMs);
  }

  /** Counting starts again from now (a release, the handshake completing). */
  restart(nowMs: number): void {
    this.markMs = nowMs;
    this.forgetResponse();
  }

  /** What the target sent so far no longer counts (its connection was reset and is opened again). */
  forgetResponse(): void {
    this.responseBytes = 0;
    this.pushed = false;
  }
}
