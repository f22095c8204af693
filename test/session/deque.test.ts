// Deque: FIFO behaviour against an array model over random operation sequences (wrap-around and
// growth included), and order kept in a long queue. Its speed at any length is the point of it;
// that is measured by the benchmarks, not here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Deque } from '../../src/session/index.js';

test('Deque behaves as an array used as a queue (push, shift, at, length, clear)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), v: fc.integer() }),
    fc.record({ kind: fc.constant('shift' as const) }),
    fc.record({ kind: fc.constant('clear' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 8 }), (ops, cap) => {
      const d = new Deque<number>(cap);
      const model: number[] = [];
      for (const o of ops) {
        if (o.kind === 'push') {
          d.push(o.v);
          model.push(o.v);
        } else if (o.kind === 'shift') {
          assert.equal(d.shift(), model.shift());
        } else {
          d.clear();
          model.length = 0;
        }
        assert.equal(d.length, model.length);
        for (let i = -1; i <= model.length; i++) assert.equal(d.at(i), model[i]);
      }
    }),
    { numRuns: 300 },
  );
});

test('a long queue keeps its order through 200,000 shifts and pushes (growth and wrap-around)', () => {
  const d = new Deque<{ i: number }>();
  for (let i = 0; i < 200_000; i++) d.push({ i });
  for (let i = 0; i < 200_000; i++) {
    const v = d.shift();
    assert.equal(v?.i, i);
    d.push({ i: i + 200_000 });
  }
  assert.equal(d.length, 200_000);
  assert.equal(d.at(0)?.i, 200_000);
  assert.equal(d.at(199_999)?.i, 399_999);
});
