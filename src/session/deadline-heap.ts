// A binary min-heap of (deadline, item) pairs with lazy deletion: the owner pushes a new entry
// whenever an item's deadline moves earlier and skips entries that no longer match the one it filed.
// Deadlines and items sit in two parallel arrays (the deadlines unboxed, as doubles): a push
// allocates nothing once the arrays have grown.

export class DeadlineHeap<T> {
  private readonly ats: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.ats.length;
  }

  /** The earliest deadline (+Infinity when empty). */
  get topAt(): number {
    return this.ats.length > 0 ? this.ats[0]! : Infinity;
  }

  /** The item of the earliest deadline (undefined when empty). */
  get topItem(): T | undefined {
    return this.items[0];
  }

  push(at: number, item: T): void {
    const ats = this.ats;
    const items = this.items;
    let i = ats.length;
    ats.push(at);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ats[p]! <= at) break;
      ats[i] = ats[p]!;
      items[i] = items[p]!;
      i = p;
    }
    ats[i] = at;
    items[i] = item;
  }

  /** Removes the earliest entry (nothing when empty). */
  pop(): void {
    const ats = this.ats;
    const items = this.items;
    const n = ats.length - 1;
    if (n < 0) return;
    // pop(), not `length = n`: setting an array's length is a call into the runtime.
    const at = ats.pop()!;
    const item = items.pop()!;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && ats[r]! < ats[l]! ? r : l;
      if (ats[m]! >= at) break;
      ats[i] = ats[m]!;
      items[i] = items[m]!;
      i = m;
    }
    ats[i] = at;
    items[i] = item;
  }

  /** Keeps only the entries for which `keep` is true (used to drop stale entries in bulk). */
  rebuild(keep: (at: number, item: T) => boolean): void {
    const ats = this.ats.slice();
    const items = this.items.slice();
    this.ats.length = 0;
    this.items.length = 0;
    for (let i = 0; i < ats.length; i++) if (keep(ats[i]!, items[i]!)) this.push(ats[i]!, items[i]!);
  }
}
