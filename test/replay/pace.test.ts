// The rate caps' pure parts (src/replay/pace.ts): RatePacer's spacing, RateMeter's achieved rate, and
// RequestStarts' request boundaries (the engine's pacing rule), with times given as values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RATE_PER_S, RateMeter, RatePacer, RequestStarts, TOLERANCE_MS } from '../../src/replay/pace.js';

/**
 * Runs events ready at `ready` (ascending) through `p`; each goes when allowed plus `late[i]` ms (a
 * timer firing late). Returns the times they went.
 */
function run(p: RatePacer, ready: readonly number[], late: readonly number[] = []): number[] {
  return ready.map((r, i) => {
    const allowed = p.earliest(r);
    const at = allowed + (late[i] ?? 0);
    p.take(at, allowed);
    return at;
  });
}

test('RatePacer: events ready together go one interval apart; the cap only delays', () => {
  const p = new RatePacer(200);
  assert.deepEqual(run(p, [1000, 1000, 1000, 1000, 1000, 1000]), [1000, 1005, 1010, 1015, 1020, 1025]);
  // Ready later than allowed: the event goes when ready.
  assert.deepEqual(run(p, [2000, 2001]), [2000, 2005]);
});

test('RatePacer: no credit after a pause; the k-th event goes at least k intervals after the first', () => {
  assert.deepEqual(run(new RatePacer(4), [0, 10_000, 10_000, 10_000]), [0, 10_000, 10_250, 10_500]);
  const ready = [0, 10, 20, 300, 310, 900, 901, 902, 2000, 2100];
  const t = run(new RatePacer(4), ready);
  assert.deepEqual(t, [0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250]);
  for (let i = 0; i < t.length; i++) assert.ok(t[i]! >= ready[i]!, 'never before the event is ready');
});

test('RatePacer: lateness up to the tolerance does not push the rest back; beyond it the timeline moves', () => {
  assert.equal(TOLERANCE_MS, 2, 'the default');
  const ready = Array.from({ length: 8 }, () => 0);
  // A tolerance of 1 ms. Events 1 and 3 went 1 ms late (a timer): the others keep to the 5 ms timeline.
  assert.deepEqual(run(new RatePacer(200, 1), ready, [0, 1, 0, 1, 0, 0, 0, 0]), [0, 6, 10, 16, 20, 25, 30, 35]);
  // Event 2 went 4 ms late (a stall beyond the tolerance): the timeline moves with it, no burst follows.
  const t = run(new RatePacer(200, 1), ready, [0, 0, 4, 0, 0, 0, 0, 0]);
  assert.deepEqual(t, [0, 5, 14, 19, 24, 29, 34, 39]);
  // Either way: the k-th event at least k intervals after the first, consecutive ones at least the
  // interval less the tolerance apart.
  // The first event 1.5 ms late: the timeline starts where it went, so the rate from the first to
  // the last event stays at the cap (the others are not let closer to make up its lateness).
  assert.deepEqual(
    run(new RatePacer(200), ready, [1.5, 0, 0, 0, 0, 0, 0, 0]),
    [1.5, 6.5, 11.5, 16.5, 21.5, 26.5, 31.5, 36.5],
  );
  const u = run(new RatePacer(200), ready, [1.5, 2, 0.5, 2, 0, 1.5, 0, 3]);
  for (let k = 1; k < u.length; k++) {
    assert.ok(u[k]! - u[0]! >= k * 5);
    assert.ok(u[k]! - u[k - 1]! >= 5 - TOLERANCE_MS);
  }
});

test('RatePacer: bad rates and tolerances are refused', () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, MAX_RATE_PER_S + 1])
    assert.throws(() => new RatePacer(bad), RangeError);
  assert.throws(() => new RatePacer(10, -1), RangeError);
  const fast = new RatePacer(MAX_RATE_PER_S);
  fast.take(0, 0);
  assert.ok(fast.earliest(0) > 0, 'the fastest cap still spaces its events');
  assert.equal(new RatePacer(10).ratePerS, 10);
  assert.equal(new RatePacer(10).intervalMs, 100);
});

test('RateMeter: (count - 1) over the span from the first to the last event', () => {
  const m = new RateMeter();
  assert.equal(m.ratePerS, 0);
  m.record(100);
  assert.equal(m.count, 1);
  assert.equal(m.ratePerS, 0);
  for (let t = 105; t <= 595; t += 5) m.record(t);
  assert.equal(m.count, 100);
  assert.equal(m.ratePerS, 200);
  const same = new RateMeter();
  same.record(7);
  same.record(7);
  assert.equal(same.ratePerS, 0, 'no time between: no rate');
});

test('RequestStarts: first payload, then payload acking more of the reply; retransmissions and continuations do not count', () => {
  const r = new RequestStarts();
  const seg = (key: string, payloadBytes: number, ack: number, flags: { syn?: boolean; end?: boolean } = {}) =>
    r.observe({ key, payloadBytes, ack, syn: flags.syn ?? false, end: flags.end ?? false });
  assert.equal(seg('a', 0, 0, { syn: true }), false, 'SYN');
  assert.equal(seg('a', 0, 1001), false, 'handshake ACK');
  assert.equal(seg('a', 100, 1001), true, 'first request');
  assert.equal(seg('a', 100, 1001), false, 'its retransmission or next segment (same ack)');
  assert.equal(seg('b', 50, 7), true, 'another session (joined mid-stream: first payload counts)');
  assert.equal(seg('a', 0, 1500), false, 'a pure ACK of the reply');
  assert.equal(seg('a', 80, 1500), true, 'second request: the client had received more of the reply');
  assert.equal(seg('a', 80, 1400), false, 'an older ack (reordered) is no new request');
  // Sequence numbers wrap: an ack just past 2^32 is beyond one just before it.
  assert.equal(seg('w', 10, 0xffff_fff0), true);
  assert.equal(seg('w', 10, 0x10), true);
  assert.equal(r.sessions, 3);
  assert.equal(seg('a', 0, 1500, { end: true }), false, 'FIN');
  assert.equal(r.sessions, 2, 'an ended session is forgotten');
  // The port reused by a new connection: its SYN starts afresh, so its first request counts at the same ack.
  assert.equal(seg('b', 0, 0, { syn: true }), false);
  assert.equal(seg('b', 50, 7), true);
  r.clear();
  assert.equal(r.sessions, 0);
  assert.equal(seg('w', 10, 0x10), true, 'after clear() (a new -T loop) every session starts afresh');
});
