// Two stream transforms in a row: what the first emits is the second's input. Each sees every target
// reply (the second first, as the reply comes back from the target) and online reply; the pair asks
// intercept for the larger of their reply-payload wishes and has the earlier of their deadlines. Pure.

import type { StreamTransform, TransformChunk } from './types.js';

export class TransformChain implements StreamTransform {
  /** first's output goes through second (bound once: it runs per chunk). */
  private emitOut: (c: TransformChunk) => void = noEmit;
  private readonly throughSecond = (c: TransformChunk): void => this.second.clientChunk(c, this.emitOut);

  constructor(
    readonly first: StreamTransform,
    readonly second: StreamTransform,
  ) {}

  get replyPayloadBytes(): number {
    return Math.max(this.first.replyPayloadBytes, this.second.replyPayloadBytes);
  }

  get heldBytes(): number {
    return this.first.heldBytes + this.second.heldBytes;
  }

  clientChunk(c: TransformChunk, emit: (c: TransformChunk) => void): void {
    this.emitOut = emit;
    this.first.clientChunk(c, this.throughSecond);
  }

  targetReply(
    prefix: Buffer | undefined,
    payloadLength: number,
    inOrder: boolean,
    emit: (c: TransformChunk) => void,
    freshBytes?: number,
  ): void {
    // A reply travels from the target back through the second to the first: the second has counted
    // it before the first acts on it and emits into the second.
    this.emitOut = emit;
    this.second.targetReply(prefix, payloadLength, inOrder, emit, freshBytes);
    this.first.targetReply(prefix, payloadLength, inOrder, this.throughSecond, freshBytes);
  }

  onlineReply(payload: Uint8Array, emit: (c: TransformChunk) => void): void {
    this.emitOut = emit;
    this.first.onlineReply?.(payload, this.throughSecond);
    this.second.onlineReply?.(payload, emit);
  }

  get deadlineMs(): number {
    return Math.min(this.first.deadlineMs ?? Infinity, this.second.deadlineMs ?? Infinity);
  }

  resume(emit: (c: TransformChunk) => void, nowMs?: number): void {
    this.emitOut = emit;
    this.first.resume?.(this.throughSecond, nowMs);
    this.second.resume?.(emit, nowMs);
  }
}

function noEmit(): void {
  throw new Error('TransformChain: emit used outside a call');
}
