// Scripted traces: a client port reused by a new connection while the old session is still being
// replayed. The new connection waits until the old session has replayed everything (or for at most
// reusedPortWaitMs, or until reusedPortQueuePackets of it are held); it is never allowed to reset
// the old one mid-replay, which lost the old connection's request at the target.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, FIN, RST } from './trace.js';

/**
 * The old connection as captured on the online host: handshake, request, FIN — all before the target answered
 * anything.
 */
function oldConnectionCaptured(h: Harness): void {
  assert.deepEqual(h.client(0, clt(1000, 0, SYN, '', { mss: 1460 })), [seg(1000, 0, SYN)]);
  h.client(1, clt(1001, 5001, ACK));
  h.client(1, clt(1001, 5001, ACK | PSH, 'req1'));
  h.client(2, clt(1005, 5101, ACK | FIN));
  h.take();
}

describe('client port reuse during the replay', () => {
  test('the new connection waits until the old session has replayed its request', () => {
    const h = new Harness();
    oldConnectionCaptured(h);
    // The new connection's SYN and request are held: nothing reaches the target, nothing is reset.
    assert.deepEqual(h.client(3, clt(4000, 0, SYN, '', { mss: 1460 })), []);
    assert.deepEqual(h.client(4, clt(4001, 7001, ACK)), []);
    assert.deepEqual(h.client(4, clt(4001, 7001, ACK | PSH, 'req2')), []);
    assert.equal(h.counters.reusedPortWaits, 1);
    assert.deepEqual(h.closed, []);
    // The old session goes on: handshake with the target, its request, its FIN once answered.
    const afterSynAck = h.target(5, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
    assert.ok(
      afterSynAck.some((s) => s.data === 'req1'),
      JSON.stringify(afterSynAck),
    );
    assert.deepEqual(h.target(6, tgt(9001, 1005, ACK | PSH, 100)), [seg(1005, 9101, ACK | FIN)]);
    // The old session ends normally; only then does the new connection's SYN go out.
    assert.deepEqual(h.target(7, tgt(9101, 1006, ACK | FIN)), [
      seg(1006, 9102, ACK),
      seg(1006, 9102, RST | ACK),
      seg(4000, 0, SYN),
    ]);
    assert.deepEqual(h.closed, ['finished']);
    // The held request follows the new handshake.
    const second = h.target(8, tgt(20000, 4001, SYN | ACK, 0, { mss: 1460 }));
    assert.ok(
      second.some((s) => s.data === 'req2' && s.seq === 4001 && s.ack === 20001),
      JSON.stringify(second),
    );
    const c = h.counters;
    assert.deepEqual([c.synCount, c.allClient, c.clientContent, c.conns, c.active, c.released], [2, 7, 2, 2, 1, 1]);
  });

  test('an old session that never finishes is reset after reusedPortWaitMs', () => {
    const h = new Harness({ reusedPortWaitMs: 500, handshakeTimeoutMs: 60_000 });
    oldConnectionCaptured(h);
    assert.deepEqual(h.client(3, clt(4000, 0, SYN)), []);
    assert.equal(h.engine.nextDeadlineMs(), 503);
    const out = h.runUntil(503);
    // SYN retransmissions of the old session may come first; the reset and the new SYN end the wait.
    assert.deepEqual(out.slice(-2), [seg(1001, 0, RST), seg(4000, 0, SYN)]);
    assert.deepEqual(h.closed, ['replaced']);
  });

  test('too many held packets end the wait at once', () => {
    const h = new Harness({ reusedPortQueuePackets: 2 });
    oldConnectionCaptured(h);
    assert.deepEqual(h.client(3, clt(4000, 0, SYN)), []);
    assert.deepEqual(h.client(4, clt(4001, 7001, ACK)), []);
    assert.deepEqual(h.client(4, clt(4001, 7001, ACK | PSH, 'req2')), [seg(1001, 0, RST), seg(4000, 0, SYN)]);
    assert.deepEqual(h.closed, ['replaced']);
  });

  test('a third connection on the port waits too, and each starts when the one before is done', () => {
    const h = new Harness();
    oldConnectionCaptured(h);
    assert.deepEqual(h.client(3, clt(4000, 0, SYN, '', { mss: 1460 })), []);
    h.client(3, clt(4001, 7001, ACK | PSH, 'req2'));
    h.client(3, clt(4005, 7101, ACK | FIN));
    assert.deepEqual(h.client(4, clt(8000, 0, SYN, '', { mss: 1460 })), []);
    h.client(4, clt(8001, 9001, ACK | PSH, 'req3'));
    assert.deepEqual(h.closed, []);
    // The first finishes: the second starts; the third is now held behind the second.
    h.target(5, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
    h.target(6, tgt(9001, 1005, ACK | PSH, 100));
    assert.deepEqual(h.target(7, tgt(9101, 1006, ACK | FIN)), [
      seg(1006, 9102, ACK),
      seg(1006, 9102, RST | ACK),
      seg(4000, 0, SYN),
    ]);
    const second = h.target(8, tgt(20000, 4001, SYN | ACK, 0, { mss: 1460 }));
    assert.ok(
      second.some((x) => x.data === 'req2'),
      JSON.stringify(second),
    );
    h.target(9, tgt(20001, 4005, ACK | PSH, 100));
    assert.deepEqual(h.target(10, tgt(20101, 4006, ACK | FIN)), [
      seg(4006, 20102, ACK),
      seg(4006, 20102, RST | ACK),
      seg(8000, 0, SYN),
    ]);
    const third = h.target(11, tgt(30000, 8001, SYN | ACK, 0, { mss: 1460 }));
    assert.ok(
      third.some((x) => x.data === 'req3'),
      JSON.stringify(third),
    );
    assert.deepEqual(h.closed, ['finished', 'finished']);
    assert.deepEqual([h.counters.reusedPortWaits, h.counters.conns, h.engine.size], [2, 3, 1]);
  });

  test('a held copy does not share the capture buffer', () => {
    const h = new Harness();
    oldConnectionCaptured(h);
    h.client(3, clt(4000, 0, SYN));
    h.client(4, clt(4001, 7001, ACK));
    const buf = Buffer.from('req2');
    h.client(4, clt(4001, 7001, ACK | PSH, buf));
    buf.fill(0x78); // the capture ring is reused
    h.target(5, tgt(9000, 1001, SYN | ACK));
    h.target(6, tgt(9001, 1005, ACK | PSH, 100));
    h.target(7, tgt(9101, 1006, ACK | FIN));
    const second = h.target(8, tgt(20000, 4001, SYN | ACK));
    assert.ok(
      second.some((s) => s.data === 'req2'),
      JSON.stringify(second),
    );
  });
});
