// When tcpcopy acknowledges the target's reply bytes at once and when it waits for the next request
// to carry the acknowledgement: every second segment, more than one full segment of bytes (intercept
// folds back-to-back segments into one reply), and a retransmission at once; the end of a small
// response after delayedAckMs. The client's SYN advertised MSS 1460 (Harness.handshake).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, ACK, PSH } from './trace.js';

describe('acknowledging the target', () => {
  test('one small reply: acknowledged after delayedAckMs, or by the next request', () => {
    const h = new Harness();
    h.handshake();
    assert.deepEqual(h.client(2, clt(1001, 5001, ACK | PSH, 'req1')), [seg(1001, 9001, ACK | PSH, 'req1')]);
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK | PSH, 812)), []);
    assert.deepEqual(h.runUntil(12), []);
    assert.deepEqual(h.runUntil(13), [seg(1005, 9813, ACK)]);
  });

  test('two small segments: the second is acknowledged at once', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK, 200)), []);
    assert.deepEqual(h.target(3, tgt(9201, 1005, ACK | PSH, 612)), [seg(1005, 9813, ACK)]);
  });

  test('one folded reply of more than a full segment: acknowledged at once', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK, 1460)), [], 'one full segment waits');
    const h2 = new Harness();
    h2.handshake();
    h2.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h2.target(3, tgt(9001, 1005, ACK | PSH, 2 * 1448)), [seg(1005, 9001 + 2 * 1448, ACK)]);
  });

  test('a retransmission that also brings new bytes: acknowledged at once', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK, 100)), []);
    assert.deepEqual(h.runUntil(13), [seg(1005, 9101, ACK)]);
    // Our ACK was lost: bytes 9001..9100 again, folded with the new 9101..9300 (one segment, 200 new bytes).
    assert.deepEqual(h.target(20, tgt(9001, 1005, ACK | PSH, 300)), [seg(1005, 9301, ACK)]);
  });

  test('a pure retransmission, already acknowledged: acknowledged again', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.target(3, tgt(9001, 1005, ACK | PSH, 100));
    assert.deepEqual(h.runUntil(13), [seg(1005, 9101, ACK)]);
    assert.deepEqual(h.target(20, tgt(9001, 1005, ACK | PSH, 100)), [seg(1005, 9101, ACK)]);
  });
});
