// RFC 6298 RTT estimation and the RTO the sessions use: the SYN's initial 1 s, then SRTT + 4·RTTVAR
// within [minRtoMs, maxRtoMs]; retransmitted segments are not sampled (Karn).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RttEstimator } from '../../src/session/rtt.js';
import { Harness, clt, tgt, seg, SYN, ACK, PSH } from './trace.js';

describe('RttEstimator', () => {
  test('initial RTO until the first sample, then SRTT + 4·RTTVAR, clamped', () => {
    const r = new RttEstimator(1000, 200, 3000);
    assert.equal(r.rtoMs(), 1000);
    assert.equal(r.srttMs, -1);
    r.sample(100); // srtt 100, rttvar 50 → 300
    assert.equal(r.srttMs, 100);
    assert.equal(r.rtoMs(), 300);
    r.sample(100); // rttvar 37.5 → 250
    assert.equal(r.rtoMs(), 250);
    r.sample(20); // srtt 90, rttvar 0.75·37.5 + 0.25·80 = 48.125 → 283
    assert.equal(r.srttMs, 90);
    assert.equal(r.rtoMs(), 283);
    const fast = new RttEstimator(1000, 200, 3000);
    fast.sample(1);
    assert.equal(fast.rtoMs(), 200);
    const slow = new RttEstimator(1000, 200, 3000);
    slow.sample(5000);
    assert.equal(slow.rtoMs(), 3000);
  });
});

describe('session RTO from measured round trips', () => {
  test('a slow target (400 ms handshake) gets a data RTO above 400 ms, not the 200 ms floor', () => {
    const h = new Harness();
    h.client(0, clt(1000, 0, SYN, '', { mss: 1460, windowScale: 7 }));
    h.target(400, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460, windowScale: 7 }, 512));
    h.client(400, clt(1001, 5001, ACK));
    h.take();
    assert.deepEqual(h.client(401, clt(1001, 5001, ACK | PSH, 'req1')), [seg(1001, 9001, ACK | PSH, 'req1')]);
    // srtt 400, rttvar 200 → RTO 1200 ms.
    assert.deepEqual(h.runUntil(1600), []);
    assert.deepEqual(h.runUntil(1601), [seg(1001, 9001, ACK | PSH, 'req1')]);
  });

  test('a retransmitted SYN is not sampled (Karn): the data RTO stays at the initial 1 s', () => {
    const h = new Harness();
    h.client(0, clt(1000, 0, SYN, '', { mss: 1460, windowScale: 7 }));
    assert.deepEqual(h.runUntil(1000), [seg(1000, 0, SYN)]);
    h.target(1010, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460, windowScale: 7 }, 512));
    h.client(1010, clt(1001, 5001, ACK));
    h.take();
    assert.deepEqual(h.client(1011, clt(1001, 5001, ACK | PSH, 'req1')), [seg(1001, 9001, ACK | PSH, 'req1')]);
    assert.deepEqual(h.runUntil(2010), []);
    assert.deepEqual(h.runUntil(2011), [seg(1001, 9001, ACK | PSH, 'req1')]);
  });
});
