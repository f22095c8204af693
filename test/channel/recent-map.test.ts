// RecentMap: keeps the newest `bound` entries (at most 1.25 × bound between compactions), a set key
// moves to the newest place, and a churn of a million keys stays linear.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentMap } from '../../src/channel/recent-map.js';

void test('keeps the newest entries; compacts to the bound past 1.25 × it', () => {
  const m = new RecentMap<number, string>(8);
  for (let i = 0; i < 10; i++) m.set(i, `v${i}`);
  assert.equal(m.size, 10, 'up to 1.25 × 8 = 10 held');
  m.set(10, 'v10');
  assert.equal(m.size, 8);
  assert.deepEqual([...m.keys()], [3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(m.get(2), undefined);
  assert.equal(m.get(3), 'v3');
});

void test('a key set again becomes the newest; delete removes', () => {
  const m = new RecentMap<string, number>(4);
  m.set('a', 1);
  m.set('b', 2);
  m.set('a', 3);
  assert.deepEqual([...m.keys()], ['b', 'a']);
  assert.equal(m.get('a'), 3);
  assert.equal(m.delete('b'), true);
  assert.equal(m.has('b'), false);
  assert.equal(m.delete('b'), false);
  assert.throws(() => new RecentMap(0), /not a positive integer/);
});

void test('property: the newest `bound` distinct keys are always held, never more than 1.25 × bound', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 300 }),
      (bound, keys) => {
        const m = new RecentMap<number, number>(bound);
        const order: number[] = [];
        keys.forEach((k, i) => {
          m.set(k, i);
          const at = order.indexOf(k);
          if (at >= 0) order.splice(at, 1);
          order.push(k);
          assert.ok(m.size <= bound + (bound >> 2));
          for (const newest of order.slice(-bound)) assert.ok(m.has(newest), `key ${newest} kept`);
        });
      },
    ),
    { seed: 15, numRuns: 300 },
  );
});

// The quadratic walk this class replaces takes minutes here: the test's timeout is the guard.
void test('a million insertions under a bound of 65,536 with deletes in between', { timeout: 60_000 }, () => {
  const m = new RecentMap<string, number>(65_536);
  for (let i = 0; i < 1_000_000; i++) {
    m.set(`k${i}`, i);
    if (i % 3 === 0) m.delete(`k${i - 1000}`);
  }
  assert.ok(m.size <= 81_920);
  assert.equal(m.get('k999999'), 999_999);
  assert.equal(m.get('k934464'), 934_464, 'the newest 65,536 set are held (this one was never deleted)');
});
