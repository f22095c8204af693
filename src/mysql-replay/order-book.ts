// The order of writes across the sessions of one replication (the MySQL mode): a write a session
// sent online after another session's write had been answered must not reach the target before that
// write is answered there too, or the target may take their row locks in the other order and end
// with other rows. Pure: the sessions' transforms (order.ts) tell it what happened.
//
// An entry is a write answered online (seen when its session's next command was captured), numbered
// in capture order across all sessions. A write captured when `need` entries existed may go once
// every one of them that belongs to another session and may touch the same row (mayConflict) is
// answered on the target (or given up).

import { mayConflict } from '../mysql/index.js';
import type { WriteTarget } from '../mysql/index.js';

/** Entries pending on the target past this many: the oldest are given up (a session that never answers). */
const MAX_PENDING = 65_536;

export interface OrderBookCounters {
  /** Writes that waited for another session's write to be answered on the target. */
  waits: number;
  /** Waits that ended because the other write took too long (given up: replayed out of order). */
  waitsTimedOut: number;
  /** Milliseconds the waits that ended lasted, summed (engine clock). */
  waitMs: number;
}

export class WriteOrderBook {
  readonly counters: OrderBookCounters = { waits: 0, waitsTimedOut: 0, waitMs: 0 };
  /** Entry `base + i`: its owner session, or −1 once answered on the target (or given up). */
  private owner: number[] = [];
  /** Entry `base + i`: what the write may touch. */
  private target: WriteTarget[] = [];
  private base = 0;
  private pendingCount = 0;
  private sessions = 0;
  /** Each session's write captured online and not yet answered there (at most one per session). */
  private readonly writing = new Map<number, WriteTarget>();
  /** Who waits for an entry (by its number) to be answered. */
  private readonly waiters = new Map<number, Array<() => void>>();

  /** A number for a new session (the owner of its entries). */
  newSession(): number {
    return this.sessions++;
  }

  /** Entries so far (the next entry's number): what a write captured now must wait for. */
  get size(): number {
    return this.base + this.owner.length;
  }

  /** Entries not yet answered on the target. */
  get pending(): number {
    return this.pendingCount;
  }

  /** A write of `session` was answered online: a new entry, pending on the target; its number. */
  push(session: number, target: WriteTarget): number {
    this.owner.push(session);
    this.target.push(target);
    this.pendingCount++;
    if (this.pendingCount > MAX_PENDING) this.giveUp(this.firstPending());
    return this.size - 1;
  }

  /** Entry `n` was answered on the target: who waited for it is woken. */
  answer(n: number): void {
    const i = n - this.base;
    if (i < 0 || i >= this.owner.length || this.owner[i] === -1) return;
    this.owner[i] = -1;
    this.pendingCount--;
    this.trim();
    const w = this.waiters.get(n);
    if (w === undefined) return;
    this.waiters.delete(n);
    for (const wake of w) wake();
  }

  /** Entry `n` is waited for no longer (too slow, or its session ended): as if answered, counted. */
  giveUp(n: number, timedOut = false): void {
    if (timedOut) this.counters.waitsTimedOut++;
    this.answer(n);
  }

  /**
   * The first entry numbered below `need`, of another session than `session`, that may touch what
   * `target` names and is still pending on the target; −1 when there is none (the write of `session`
   * captured at `need` may go).
   */
  blocker(session: number, need: number, target: WriteTarget): number {
    const end = Math.min(need - this.base, this.owner.length);
    for (let i = 0; i < end; i++) {
      const o = this.owner[i]!;
      if (o !== -1 && o !== session && mayConflict(this.target[i]!, target)) return this.base + i;
    }
    return -1;
  }

  /** `session` sent a write online (`target`), or (null) it was answered or the session ended. */
  inFlight(session: number, target: WriteTarget | null): void {
    if (target === null) this.writing.delete(session);
    else this.writing.set(session, target);
  }

  /** Whether another session's write in flight online may touch what `target` names. */
  inFlightConflict(session: number, target: WriteTarget): boolean {
    for (const [s, t] of this.writing) if (s !== session && mayConflict(t, target)) return true;
    return false;
  }

  /** Calls `wake` once entry `n` is answered (at once when it is already). */
  wait(n: number, wake: () => void): void {
    const i = n - this.base;
    if (i < 0 || i >= this.owner.length || this.owner[i] === -1) {
      wake();
      return;
    }
    const w = this.waiters.get(n);
    if (w === undefined) this.waiters.set(n, [wake]);
    else w.push(wake);
  }

  private firstPending(): number {
    for (let i = 0; i < this.owner.length; i++) if (this.owner[i] !== -1) return this.base + i;
    return -1;
  }

  /** Drops answered entries from the front (kept in one array: shifted in bulk, not one by one). */
  private trim(): void {
    let k = 0;
    while (k < this.owner.length && this.owner[k] === -1) k++;
    if (k === 0) return;
    if (k === this.owner.length) {
      this.owner = [];
      this.target = [];
    } else if (k >= 1024 || k * 2 >= this.owner.length) {
      this.owner = this.owner.slice(k);
      this.target = this.target.slice(k);
    } else return;
    this.base += k;
  }
}
