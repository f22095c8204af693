// DeadlineHeap: against a sorted-list model over random pushes, pops and rebuilds — the earliest
// deadline is always on top, every pushed entry comes out once, and rebuild keeps exactly the
// entries it is told to keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DeadlineHeap } from '../../src/session/deadline-heap.js';

interface Item {
  readonly id: number;
}

test('DeadlineHeap: the top is the earliest deadline after any mix of push, pop and rebuild', () => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('push' as const),
      at: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
    }),
    fc.record({ kind: fc.constant('pop' as const) }),
    fc.record({ kind: fc.constant('rebuild' as const), mod: fc.integer({ min: 2, max: 4 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const heap = new DeadlineHeap<Item>();
      let model: { at: number; item: Item }[] = [];
      let next = 0;
      for (const o of ops) {
        if (o.kind === 'push') {
          const item = { id: next++ };
          heap.push(o.at, item);
          model.push({ at: o.at, item });
        } else if (o.kind === 'pop') {
          const top = heap.topItem;
          const at = heap.topAt;
          heap.pop();
          if (model.length === 0) {
            assert.equal(top, undefined);
            assert.equal(at, Infinity);
            continue;
          }
          const least = Math.min(...model.map((e) => e.at));
          assert.equal(at, least);
          const i = model.findIndex((e) => e.item === top);
          assert.ok(i >= 0, 'the popped item was pushed and not popped before');
          assert.equal(model[i]!.at, at);
          model.splice(i, 1);
        } else {
          heap.rebuild((_at, item) => item.id % o.mod !== 0);
          model = model.filter((e) => e.item.id % o.mod !== 0);
        }
        assert.equal(heap.size, model.length);
        assert.equal(heap.topAt, model.length > 0 ? Math.min(...model.map((e) => e.at)) : Infinity);
      }
      // Drained, the entries come out in deadline order.
      const out: number[] = [];
      while (heap.size > 0) {
        out.push(heap.topAt);
        heap.pop();
      }
      assert.deepEqual(
        out,
        model.map((e) => e.at).sort((a, b) => a - b),
      );
    }),
    { numRuns: 300 },
  );
});
