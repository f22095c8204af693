// SessionTable: exact 4-tuple lookups without a key string, sessions that differ only in the target
// address, replacement, identity-checked removal and the count, against a Map of string keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionTable } from '../../src/session/index.js';
import { Prng } from '../packet/prng.js';

interface V {
  readonly targetIp: string;
  readonly id: number;
}

void test('one client port to two targets on the same port: both kept, each found and removed on its own', () => {
  const t = new SessionTable<V>();
  const a = { targetIp: '10.77.0.3', id: 1 };
  const b = { targetIp: '10.77.0.9', id: 2 };
  t.set('10.77.1.1', 40000, 8080, a);
  t.set('10.77.1.1', 40000, 8080, b);
  assert.equal(t.size, 2);
  assert.equal(t.get('10.77.1.1', 40000, '10.77.0.3', 8080), a);
  assert.equal(t.get('10.77.1.1', 40000, '10.77.0.9', 8080), b);
  assert.equal(t.get('10.77.1.1', 40000, '10.77.0.4', 8080), undefined);
  assert.equal(t.get('10.77.1.1', 40000, '10.77.0.3', 8081), undefined);
  assert.equal(
    t.delete('10.77.1.1', 40000, 8080, { targetIp: '10.77.0.3', id: 1 }),
    false,
    'only the stored object is removed',
  );
  assert.equal(t.delete('10.77.1.1', 40000, 8080, a), true);
  assert.equal(t.delete('10.77.1.1', 40000, 8080, a), false);
  assert.equal(t.get('10.77.1.1', 40000, '10.77.0.9', 8080), b);
  const c = { targetIp: '10.77.0.9', id: 3 };
  t.set('10.77.1.1', 40000, 8080, c);
  assert.equal(t.size, 1, 'replaced, not added');
  assert.deepEqual([...t.values()], [c]);
  assert.equal(t.delete('10.77.1.1', 40000, 8080, c), true);
  assert.equal(t.size, 0);
});

void test('random operations agree with a Map keyed by the 4-tuple text', () => {
  const r = new Prng(5);
  const t = new SessionTable<V>();
  const m = new Map<string, V>();
  const ips = ['10.0.0.1', '10.0.0.2', 'fd77::1'];
  const targets = ['10.77.0.3', '10.77.0.4'];
  for (let i = 0; i < 20_000; i++) {
    const c = ips[r.below(ips.length)]!;
    const cp = 40000 + r.below(4);
    const tip = targets[r.below(targets.length)]!;
    const tp = 8080 + r.below(2);
    const k = `${c} ${cp} ${tip} ${tp}`;
    const op = r.below(3);
    if (op === 0) {
      const v = { targetIp: tip, id: i };
      t.set(c, cp, tp, v);
      m.set(k, v);
    } else if (op === 1) {
      const v = m.get(k);
      assert.equal(t.delete(c, cp, tp, v ?? { targetIp: tip, id: -1 }), v !== undefined);
      m.delete(k);
    }
    assert.equal(t.get(c, cp, tip, tp), m.get(k));
    assert.equal(t.size, m.size);
  }
  assert.deepEqual(new Set(t.values()), new Set(m.values()));
});
