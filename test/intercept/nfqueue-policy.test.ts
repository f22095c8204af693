// The verdict policy of traditional intercept: pass-list, routed, lingering, held and released
// replies, with time as an input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERDICT_POLICY_DEFAULTS, VerdictPolicy } from '../../src/intercept/nfqueue-policy.js';

const A = '4|10.77.0.1|40000|10.77.0.3|8080';
const B = '4|10.77.0.1|40001|10.77.0.3|8080';

describe('VerdictPolicy', () => {
  void test('defaults: hold as long as routing parks a reply (3 s), linger 60 s', () => {
    const p = new VerdictPolicy({ passList: [] });
    assert.equal(p.holdMs, 3000);
    assert.equal(p.lingerMs, 60_000);
    assert.equal(VERDICT_POLICY_DEFAULTS.maxHeld, 65_536);
  });

  void test('pass-list: exact addresses only', () => {
    const p = new VerdictPolicy({ passList: ['10.77.0.4', 'fd77::4'] });
    assert.equal(p.passes('10.77.0.4'), true);
    assert.equal(p.passes('fd77::4'), true);
    assert.equal(p.passes('10.77.0.1'), false);
    assert.equal(p.passes('10.77.0.40'), false);
  });

  void test('routed → drop; unknown → accept; an ended session lingers (drop) for lingerMs', () => {
    const p = new VerdictPolicy({ passList: [], lingerMs: 1000 });
    assert.equal(p.decide(A, 'unroutable', 0), 'accept');
    assert.equal(p.decide(A, 'routed', 10), 'drop');
    // unregistered now: its late FIN/ACK still belongs to the copy
    assert.equal(p.decide(A, 'unroutable', 1010), 'drop');
    assert.equal(p.decide(A, 'parked', 1010), 'drop');
    assert.equal(p.decide(A, 'unroutable', 1011), 'accept');
    assert.equal(p.decide(B, 'unroutable', 20), 'accept');
    assert.equal(p.remembered, 1);
  });

  void test('parked → hold; the registration drops the held ids, once', () => {
    const p = new VerdictPolicy({ passList: [], holdMs: 100 });
    assert.equal(p.decide(A, 'parked', 0), 'hold');
    p.hold(A, 11, 0);
    p.hold(A, 12, 5);
    p.hold(B, 13, 5);
    assert.equal(p.held, 3);
    assert.deepEqual(p.noteRegistration(A, 20), [11, 12]);
    assert.deepEqual(p.noteRegistration(A, 21), []);
    assert.equal(p.held, 1);
    // A is now known: its next reply lingers as dropped even when routing does not know it
    assert.equal(p.decide(A, 'unroutable', 50), 'drop');
    // the expiry skips the answered ids and releases B at its deadline, not before
    assert.deepEqual(p.expire(104), []);
    assert.deepEqual(p.expire(105), [13]);
    assert.equal(p.held, 0);
    assert.deepEqual(p.expire(1000), []);
    // B's registration after its hold ran out finds nothing to drop
    assert.deepEqual(p.noteRegistration(B, 1001), []);
  });

  void test('a registration registered before the reply: the reply is routed, never held', () => {
    const p = new VerdictPolicy({ passList: [] });
    assert.deepEqual(p.noteRegistration(A, 0), []);
    assert.equal(p.decide(A, 'routed', 1), 'drop');
  });

  void test('maxHeld bounds the held replies: beyond it a parked reply is accepted', () => {
    const p = new VerdictPolicy({ passList: [], maxHeld: 2 });
    for (const id of [1, 2]) {
      assert.equal(p.decide(`k${id}`, 'parked', 0), 'hold');
      p.hold(`k${id}`, id, 0);
    }
    assert.equal(p.decide('k3', 'parked', 0), 'accept');
    assert.deepEqual(p.releaseAll().sort(), [1, 2]);
    assert.equal(p.held, 0);
    assert.equal(p.decide('k3', 'parked', 0), 'hold');
  });

  void test('maxRemembered evicts the oldest sessions first', () => {
    const p = new VerdictPolicy({ passList: [], maxRemembered: 2 });
    p.noteRegistration('k1', 0);
    p.noteRegistration('k2', 0);
    p.noteRegistration('k3', 0);
    assert.equal(p.remembered, 2);
    assert.equal(p.decide('k1', 'unroutable', 1), 'accept');
    assert.equal(p.decide('k2', 'unroutable', 1), 'drop');
    assert.equal(p.decide('k3', 'unroutable', 1), 'drop');
  });

  void test('many holds: expiry keeps arrival order across compaction', () => {
    const p = new VerdictPolicy({ passList: [], holdMs: 10 });
    for (let i = 0; i < 5000; i++) p.hold(`s${i % 50}`, i, i);
    const first = p.expire(2009); // deadlines 10 .. 2009 → ids 0 .. 1999
    assert.equal(first.length, 2000);
    assert.deepEqual(first.slice(0, 3), [0, 1, 2]);
    assert.deepEqual(p.noteRegistration('s7', 2010).slice(0, 2), [2007, 2057]);
    const rest = p.expire(10_000);
    assert.equal(rest.length + first.length + 60, 5000);
    assert.ok(!rest.includes(2007));
    assert.equal(p.held, 0);
  });
});
