// The order of writes across the sessions of one replication (the MySQL mode): a write a session
// sent online after another session's write had been answered must not reach the target before that
// write is answered there too, or the target may take their row locks in the other order and end
// with other rows. Pure: the sessions' transforms (order.ts) tell it what happened.
//
// An entry is a write answered online (seen when its session's next command was captured), numbered
// in capture order across all sessions. A write captured when `need` entries existed may go once
// every one of them that belongs to another session and may touch the same row (mayConflict) is
// answered on the target (or given up).
//
// Pending entries are also filed by row (and table), so finding what a one-row write waits for reads
// the few pending writes of its row, not every pending write: when the target falls behind under hot
// rows, tens of thousands are pending, and a scan of them per wake (per write) took the event loop
// whole milliseconds, which slowed the relay of the answers the waits end with.

import { mayConflict } from '../mysql/index.js';
import type { WriteTarget } from '../mysql/index.js';

/**
 * Entries pending on the target past this many: the oldest are given up (a session that never
 * answers; or a target seconds behind under a write load: 256 Ki is 15 s of 17k writes/s), counted
 * in `dropped`: writes after them may overtake them.
 */
export const MAX_PENDING = 262_144;
/** Entries kept (answered ones behind a pending one included) past this many: the oldest pending is given up. */
const MAX_KEPT = 4 * MAX_PENDING;

/** The pending entries of one table, by what they name. */
interface TableFile {
  /** Entries that name the whole table (no row), in number order. */
  readonly whole: number[];
  /** Pending entries by the column their row names (`col=value`). */
  readonly columns: Map<string, number>;
}

const columnOf = (row: string): string => row.slice(0, row.indexOf('='));

export interface OrderBookCounters {
  /** Writes that waited for another session's write to be answered on the target. */
  waits: number;
  /** Waits that ended because the other write took too long (given up: replayed out of order). */
  waitsTimedOut: number;
  /** Milliseconds the waits that ended lasted, summed (engine clock). */
  waitMs: number;
  /** Entries given up unanswered because more than MAX_PENDING were pending (or kept). */
  dropped: number;
}

export class WriteOrderBook {
  readonly counters: OrderBookCounters = { waits: 0, waitsTimedOut: 0, waitMs: 0, dropped: 0 };
  /** Entry `base + i`: its owner session, or −1 once answered on the target (or given up). */
  private owner: number[] = [];
  /** Entry `base + i`: what the write may touch. */
  private target: WriteTarget[] = [];
  private base = 0;
  /** Entries `base .. base + answeredFront − 1` are all answered (not yet dropped from the arrays). */
  private answeredFront = 0;
  private pendingCount = 0;
  private sessions = 0;
  /** Each session's write captured online and not yet answered there (at most one per session). */
  private readonly writing = new Map<number, WriteTarget>();
  /** Who waits for an entry (by its number) to be answered. */
  private readonly waiters = new Map<number, Array<() => void>>();
  /** Pending entries by `table NUL col=value`, in number order. */
  private readonly rows = new Map<string, number[]>();
  private readonly tables = new Map<string, TableFile>();
  /** Pending entries that may touch any table, in number order. */
  private readonly anyTable: number[] = [];

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
    const n = this.size - 1;
    this.file(n, target);
    if (this.pendingCount > MAX_PENDING || this.owner.length > MAX_KEPT) {
      this.counters.dropped++;
      this.giveUp(this.firstPending());
    }
    return n;
  }

  /** Entry `n` was answered on the target: who waited for it is woken. */
  answer(n: number): void {
    const i = n - this.base;
    if (i < 0 || i >= this.owner.length || this.owner[i] === -1) return;
    this.owner[i] = -1;
    this.pendingCount--;
    this.unfile(n, this.target[i]!);
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
    const table = target.table === null ? undefined : this.tables.get(target.table);
    const row = target.row;
    if (target.table === null || row === null) return this.scan(session, need, target);
    const column = columnOf(row);
    let found = this.first(this.anyTable, session, need, -1);
    if (table === undefined) return found;
    for (const [c, count] of table.columns) {
      // A row named by another column may be this one: such pending writes are read one by one.
      if (c !== column && count > 0) return this.scan(session, need, target);
    }
    found = this.first(table.whole, session, need, found);
    const same = this.rows.get(`${target.table}\0${row}`);
    return same === undefined ? found : this.first(same, session, need, found);
  }

  /** The smallest of `best` (−1: none) and the first entry of `list` below `need` of another session. */
  private first(list: readonly number[], session: number, need: number, best: number): number {
    const stop = best < 0 ? need : Math.min(need, best);
    for (const n of list) {
      if (n >= stop) break;
      if (this.owner[n - this.base] !== session) return n;
    }
    return best;
  }

  /** blocker() by reading every pending entry (a write that names no row, or a table with rows by several columns). */
  private scan(session: number, need: number, target: WriteTarget): number {
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

  /** Files pending entry `n` under what it names. */
  private file(n: number, t: WriteTarget): void {
    if (t.table === null) {
      this.anyTable.push(n);
      return;
    }
    let table = this.tables.get(t.table);
    if (table === undefined) {
      table = { whole: [], columns: new Map() };
      this.tables.set(t.table, table);
    }
    if (t.row === null) {
      table.whole.push(n);
      return;
    }
    const c = columnOf(t.row);
    table.columns.set(c, (table.columns.get(c) ?? 0) + 1);
    const key = `${t.table}\0${t.row}`;
    const list = this.rows.get(key);
    if (list === undefined) this.rows.set(key, [n]);
    else list.push(n);
  }

  /** Takes entry `n` (answered) out of the files. */
  private unfile(n: number, t: WriteTarget): void {
    if (t.table === null) {
      remove(this.anyTable, n);
      return;
    }
    const table = this.tables.get(t.table)!;
    if (t.row === null) remove(table.whole, n);
    else {
      const c = columnOf(t.row);
      const left = table.columns.get(c)! - 1;
      if (left === 0) table.columns.delete(c);
      else table.columns.set(c, left);
      const key = `${t.table}\0${t.row}`;
      const list = this.rows.get(key)!;
      remove(list, n);
      if (list.length === 0) this.rows.delete(key);
    }
    if (table.whole.length === 0 && table.columns.size === 0) this.tables.delete(t.table);
  }

  private firstPending(): number {
    for (let i = this.answeredFront; i < this.owner.length; i++) if (this.owner[i] !== -1) return this.base + i;
    return -1;
  }

  /**
   * Drops answered entries from the front (kept in one array: shifted in bulk, not one by one); the
   * answered run at the front is remembered, so each answer reads only what was answered since.
   */
  private trim(): void {
    let k = this.answeredFront;
    while (k < this.owner.length && this.owner[k] === -1) k++;
    this.answeredFront = k;
    if (k === 0) return;
    if (k === this.owner.length) {
      this.owner = [];
      this.target = [];
    } else if (k >= 1024 || k * 2 >= this.owner.length) {
      this.owner = this.owner.slice(k);
      this.target = this.target.slice(k);
    } else return;
    this.base += k;
    this.answeredFront = 0;
  }
}

/** Removes `n` from a list in number order (answers come mostly oldest first: found near the front). */
function remove(list: number[], n: number): void {
  const i = list.indexOf(n);
  if (i === 0) list.shift();
  else if (i > 0) list.splice(i, 1);
}
