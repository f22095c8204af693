// Scripted traces of a handshake that completes late (tcpcopy or its channel stalled): the target
// has dropped the half-open connection our ACK was meant for and resets the ACK and the request.
// The connection is opened again with the same SYN and the request replayed; the second RST of the
// pair, and any RST of an earlier connection on the 4-tuple, end nothing (RFC 793 §3.4, RFC 5961).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, FIN, RST } from './trace.js';

/** A one-request connection as captured, all before the target answered anything. */
function captured(h: Harness, isn = 1000): void {
  assert.deepEqual(h.client(0, clt(isn, 0, SYN, '', { mss: 1460 })), [seg(isn, 0, SYN)]);
  h.client(1, clt(isn + 1, 5001, ACK));
  h.client(1, clt(isn + 1, 5001, ACK | PSH, 'req1'));
  h.take();
}

describe('late handshake ACK reset by the target', () => {
  test('the connection is opened again with the same SYN and the request replayed', () => {
    const h = new Harness();
    captured(h);
    const est = h.target(2, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
    assert.ok(
      est.some((s) => s.data === 'req1'),
      JSON.stringify(est),
    );
    // Linux answers the ACK and the request, each with an RST (seq = their ack, no ACK flag).
    assert.deepEqual(h.target(3, tgt(9001, 0, RST)), [seg(1000, 0, SYN)]);
    assert.deepEqual(h.target(3, tgt(9001, 0, RST)), []);
    assert.deepEqual(h.closed, []);
    assert.deepEqual([h.counters.respRst, h.counters.staleRst, h.counters.handshakeRestarts], [1, 1, 1]);
    const again = h.target(4, tgt(30000, 1001, SYN | ACK, 0, { mss: 1460 }));
    assert.ok(
      again.some((s) => s.data === 'req1' && s.seq === 1001 && s.ack === 30001),
      JSON.stringify(again),
    );
    assert.deepEqual(h.target(5, tgt(30001, 1005, ACK | PSH | FIN, 100)), [
      seg(1005, 30102, ACK),
      seg(1005, 30102, RST | ACK),
    ]);
    assert.deepEqual(h.closed, ['finished']);
    assert.equal(h.counters.conns, 1);
  });

  test('a reset after the target acknowledged the request still ends the session', () => {
    const h = new Harness();
    captured(h);
    h.target(2, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
    h.target(3, tgt(9001, 1005, ACK));
    h.take();
    assert.deepEqual(h.target(4, tgt(9001, 0, RST)), []);
    assert.deepEqual(h.closed, ['targetReset']);
    assert.equal(h.counters.handshakeRestarts, 0);
  });

  test('an RST of a previous connection on the 4-tuple does not end its successor', () => {
    const h = new Harness();
    captured(h);
    h.target(2, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }));
    h.target(3, tgt(9001, 1005, ACK | PSH, 100));
    h.client(4, clt(1005, 5101, ACK | FIN));
    h.take();
    h.target(5, tgt(9101, 1006, ACK | FIN));
    assert.deepEqual(h.closed, ['finished']);
    // The next connection on the port, in SYN_SENT: an RST without an ACK of its SYN is not for it.
    assert.deepEqual(h.client(6, clt(4000, 0, SYN, '', { mss: 1460 })), [seg(4000, 0, SYN)]);
    assert.deepEqual(h.target(7, tgt(9102, 0, RST)), []);
    assert.equal(h.counters.staleRst, 1);
    // Established: an RST far outside the receive window is ignored too.
    h.target(8, tgt(3_000_000_000, 4001, SYN | ACK, 0, { mss: 1460 }));
    assert.deepEqual(h.target(9, tgt(9102, 0, RST)), []);
    assert.deepEqual(h.closed, ['finished']);
    assert.equal(h.counters.staleRst, 2);
    // An RST at rcvNxt is accepted (here before any byte was exchanged: the connection is opened again).
    assert.deepEqual(h.target(10, tgt(3_000_000_001, 0, RST)), [seg(4000, 0, SYN)]);
    assert.equal(h.counters.handshakeRestarts, 1);
  });
});
