// Scripted traces: client retransmission/overlap/reordering, capture gaps, target loss (RTO and
// three duplicate ACKs), MSS segmentation, zero window, buffer bound, timestamps.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH } from './trace.js';

describe('client stream reassembly', () => {
  test('reordered, retransmitted and overlapping client segments', () => {
    const h = new Harness();
    h.handshake();
    assert.deepEqual(h.client(2, clt(1005, 5001, ACK, 'bbbb')), []);
    assert.deepEqual(h.client(3, clt(1001, 5001, ACK, 'aaaa')), [
      seg(1001, 9001, ACK | PSH, 'aaaa'),
      seg(1005, 9001, ACK | PSH, 'bbbb'),
    ]);
    assert.deepEqual(h.client(4, clt(1001, 5001, ACK, 'aaaa')), []);
    assert.equal(h.counters.clientRetransmit, 1);
    assert.deepEqual(h.client(5, clt(1007, 5001, ACK, 'bbcc')), [seg(1009, 9001, ACK | PSH, 'cc')]);
    assert.equal(h.counters.clientRetransmit, 2);
  });

  test('a capture gap is waited for captureGapWaitMs, then skipped; later bytes shift down', () => {
    const h = new Harness({ captureGapWaitMs: 500 });
    h.handshake();
    assert.deepEqual(h.client(10, clt(1011, 5001, ACK, 'late')), []);
    assert.equal(h.engine.nextDeadlineMs(), 510);
    assert.deepEqual(h.runUntil(509), []);
    assert.deepEqual(h.timer(510), [seg(1001, 9001, ACK | PSH, 'late')]);
    assert.equal(h.counters.captureGapSkipped, 1);
    assert.deepEqual(h.client(520, clt(1015, 5001, ACK, 'more')), [seg(1005, 9001, ACK | PSH, 'more')]);
    assert.deepEqual(h.client(530, clt(1001, 5001, ACK, '0123456789')), []);
    assert.equal(h.counters.clientRetransmit, 1);
  });

  test('the per-session buffer bound drops and counts', () => {
    const h = new Harness({ maxBufferedBytes: 8 });
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.client(3, clt(1005, 5101, ACK | PSH, 'req2')), []);
    assert.deepEqual(h.client(3, clt(1009, 5201, ACK | PSH, 'req3')), []);
    assert.equal(h.counters.bufferOverflow, 1);
  });
});

describe('target loss', () => {
  test('retransmission on timeout, with backoff, until acknowledged', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.equal(h.engine.nextDeadlineMs(), 202);
    assert.deepEqual(h.timer(202), [seg(1001, 9001, ACK | PSH, 'req1')]);
    assert.equal(h.engine.nextDeadlineMs(), 602);
    assert.equal(h.counters.retransmit, 1);
    assert.deepEqual(h.target(300, tgt(9001, 1005, ACK)), []);
    assert.equal(h.engine.nextDeadlineMs(), 300 + 3_600_000);
  });

  test('segmentation to the target MSS and fast retransmit on three duplicate ACKs', () => {
    const h = new Harness();
    h.handshake({ mss: 4 });
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, '0123456789')), [
      seg(1001, 9001, ACK, '0123'),
      seg(1005, 9001, ACK, '4567'),
      seg(1009, 9001, ACK | PSH, '89'),
    ]);
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK)), []);
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK)), []);
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK)), []);
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK)), [seg(1005, 9001, ACK, '4567')]);
    assert.equal(h.counters.retransmit, 1);
    assert.deepEqual(h.target(5, tgt(9001, 1011, ACK)), []);
    assert.equal(h.engine.nextDeadlineMs(), 5 + 3_600_000);
  });

  test('window full: send what fits, probe the zero window, resume on the update', () => {
    const h = new Harness();
    h.handshake({ mss: 1460 }, 4);
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, '0123456789')), [seg(1001, 9001, ACK, '0123')]);
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK, 0, {}, 0)), []);
    assert.equal(h.engine.nextDeadlineMs(), 203);
    assert.deepEqual(h.timer(203), [seg(1004, 9001, ACK)]);
    assert.deepEqual(h.target(210, tgt(9001, 1005, ACK, 0, {}, 100)), [seg(1005, 9001, ACK | PSH, '456789')]);
  });

  test('the window scale from the SYN-ACK applies to later windows', () => {
    const h = new Harness();
    h.handshake({ mss: 1460, windowScale: 1 }, 2);
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, '01234567')), [seg(1001, 9001, ACK, '01')]);
    // window 3 << 1 = 6 bytes
    assert.deepEqual(h.target(3, tgt(9001, 1003, ACK, 0, {}, 3)), [seg(1003, 9001, ACK | PSH, '234567')]);
  });

  test('a retransmitted response segment is acknowledged again', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK | PSH, 100)), []);
    assert.deepEqual(h.runUntil(13), [seg(1005, 9101, ACK)]);
    assert.deepEqual(h.target(14, tgt(9001, 1005, ACK | PSH, 100)), [seg(1005, 9101, ACK)]);
  });
});

describe('timestamps', () => {
  test('TSval non-decreasing, TSecr = the target latest TSval', () => {
    const h = new Harness();
    const tsOf = (): [number, number] => {
      const s = h.out.shift();
      const o = s?.options.find((x) => x.kind === 'timestamps');
      assert.ok(o && o.kind === 'timestamps');
      return [o.tsval, o.tsecr];
    };
    h.engine.onClientPacket(0, clt(1000, 0, SYN, '', { mss: 1460, windowScale: 7, hasTimestamps: true, tsval: 100 }));
    assert.deepEqual(tsOf(), [100, 0]);
    h.engine.onTargetResponse(
      1,
      tgt(9000, 1001, SYN | ACK, 0, { mss: 1460, hasTimestamps: true, tsval: 7000, tsecr: 100 }),
    );
    assert.deepEqual(tsOf(), [100, 7000]);
    h.engine.onClientPacket(2, clt(1001, 5001, ACK | PSH, 'req1', { hasTimestamps: true, tsval: 110 }));
    assert.deepEqual(tsOf(), [110, 7000]);
    h.engine.onClientPacket(3, clt(1005, 5001, ACK | PSH, 'req2', { hasTimestamps: true, tsval: 105 }));
    assert.deepEqual(tsOf(), [110, 7000]);
    h.engine.onTargetResponse(4, tgt(9001, 1009, ACK | PSH, 10, { hasTimestamps: true, tsval: 7010 }));
    assert.equal(h.out.length, 0);
    h.engine.onTimer(14); // the delayed ACK
    assert.deepEqual(tsOf(), [110, 7010]);
    assert.equal(h.out.length, 0);
  });

  test('no timestamps when the target does not echo them', () => {
    const h = new Harness();
    h.engine.onClientPacket(0, clt(1000, 0, SYN, '', { hasTimestamps: true, tsval: 100 }));
    h.engine.onTargetResponse(1, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
    assert.deepEqual(h.out[1]?.options, []);
  });
});
