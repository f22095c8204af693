// A map that remembers only its most recent entries, for tables of "recently seen" keys under a
// high churn of new keys. The obvious `map.delete(map.keys().next().value)` per insertion is
// quadratic in V8: a deleted entry stays a hole in the Map's table until the table is rebuilt, and
// `keys().next()` walks every hole at the front first (profiled: 27 % of tcpcopy's CPU time at
// 40,000 new sessions per second, in ConnectionPool.unregister). Here the map grows to 1.25 × the
// bound and is then copied anew with the newest `bound` entries: amortised O(1), no holes kept.
// Pure.

export class RecentMap<K, V> {
  private map = new Map<K, V>();

  constructor(readonly bound: number) {
    if (!Number.isSafeInteger(bound) || bound < 1)
      throw new RangeError(`RecentMap bound ${bound} is not a positive integer`);
  }

  /** Entries held: at most 1.25 × bound. */
  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores `value` as the newest entry (a key already held moves to the newest place). */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.bound + (this.bound >> 2)) this.compact();
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Keys from the oldest to the newest. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  private compact(): void {
    const next = new Map<K, V>();
    let skip = this.map.size - this.bound;
    for (const [k, v] of this.map) {
      if (skip > 0) skip--;
      else next.set(k, v);
    }
    this.map = next;
  }
}
