// A binary min-heap of (deadline, item) pairs with lazy deletion: the owner pushes a new entry
// whenever an item's deadline moves earlier and skips entries that no longer match the one it filed.

export interface HeapEntry<T> {
  at: number;
  item: T;
}

export class DeadlineHeap<T> {
  private readonly a: HeapEntry<T>[] = [];

  get size(): number {
    return this.a.length;
  }

  push(at: number, item: T): void {
    const a = this.a;
    a.push({ at, item });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const up = a[i]!;
      if (a[p]!.at <= up.at) break;
      a[i] = a[p]!;
      a[p] = up;
      i = p;
    }
  }

  peek(): HeapEntry<T> | undefined {
    return this.a[0];
  }

  pop(): HeapEntry<T> | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.at < a[m]!.at) m = l;
        if (r < a.length && a[r]!.at < a[m]!.at) m = r;
        if (m === i) break;
        const down = a[i]!;
        a[i] = a[m]!;
        a[m] = down;
        i = m;
      }
    }
    return top;
  }

  /** Keeps only entries for which `keep` is true (used to drop stale entries in bulk). */
  rebuild(keep: (e: HeapEntry<T>) => boolean): void {
    const kept = this.a.filter(keep);
    this.a.length = 0;
    for (const e of kept) this.push(e.at, e.item);
  }
}
