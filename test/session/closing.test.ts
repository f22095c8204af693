// Scripted traces: FIN and RST both ways, FIN/RST races, session and keep-alive timeouts,
// port reuse, unmatched responses, option validation and the segment emitter.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, FIN, RST, CLIENT, CPORT, TARGET, TPORT } from './trace.js';
import { SessionError } from '../../src/session/index.js';
import { emitSegment, pseudoSumV4, verifyIpv4HeaderChecksum, verifyTransportChecksum } from '../../src/packet/index.js';

function oneRequest(h: Harness): void {
  h.handshake();
  h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
  h.target(3, tgt(9001, 1005, ACK | PSH, 100));
  h.take();
}

describe('FIN and RST', () => {
  test('client FIN first: forwarded once answered; target FIN acked, then an RST frees the target', () => {
    const h = new Harness();
    oneRequest(h);
    assert.deepEqual(h.client(4, clt(1005, 5101, ACK | FIN)), [seg(1005, 9101, ACK | FIN)]);
    assert.deepEqual(h.target(5, tgt(9101, 1006, ACK | FIN)), [seg(1006, 9102, ACK), seg(1006, 9102, RST | ACK)]);
    assert.deepEqual(h.closed, ['finished']);
    const c = h.counters;
    assert.deepEqual([c.sendFin, c.respFin, c.sendReset, c.released, c.active], [1, 1, 1, 1, 0]);
  });

  test('client FIN while its response is still due is held', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.client(3, clt(1005, 5101, ACK | FIN)), []);
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK | PSH, 100)), [seg(1005, 9101, ACK | FIN)]);
  });

  test('target FIN first: acked, RST, session gone; the late client FIN is ignored', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.target(3, tgt(9001, 1005, ACK | PSH | FIN, 100)), [
      seg(1005, 9102, ACK),
      seg(1005, 9102, RST | ACK),
    ]);
    assert.deepEqual(h.closed, ['finished']);
    assert.deepEqual(h.client(4, clt(1005, 5102, ACK | FIN)), []);
    assert.equal(h.engine.size, 0);
  });

  test('race: target FIN while the next request is held, then target RST', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.client(3, clt(1005, 5101, ACK | PSH, 'req2'));
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK | FIN)), [seg(1005, 9002, ACK | PSH, 'req2')]);
    assert.deepEqual(h.target(5, tgt(9002, 0, RST)), []);
    assert.deepEqual(h.closed, ['targetReset']);
    assert.deepEqual([h.counters.respRst, h.counters.sendReset], [1, 0]);
  });

  test('client RST forwarded at once when nothing is pending', () => {
    const h = new Harness();
    oneRequest(h);
    assert.deepEqual(h.client(4, clt(1005, 5101, RST | ACK)), [seg(1005, 9101, RST | ACK)]);
    assert.deepEqual(h.closed, ['clientReset']);
  });

  test('race: client RST while the request is unacknowledged waits for the answer', () => {
    const h = new Harness();
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.client(3, clt(1005, 5101, RST)), []);
    // The RST carries the acknowledgement of the response: no pure ACK before it.
    assert.deepEqual(h.target(4, tgt(9001, 1005, ACK | PSH, 100)), [seg(1005, 9101, RST | ACK)]);
  });

  test('client FIN and target FIN crossing', () => {
    const h = new Harness();
    oneRequest(h);
    h.client(4, clt(1005, 5101, ACK | FIN));
    // the target's FIN does not yet acknowledge ours
    assert.deepEqual(h.target(5, tgt(9101, 1005, ACK | FIN)), [seg(1006, 9102, ACK)]);
    assert.deepEqual(h.target(6, tgt(9102, 1006, ACK)), [seg(1006, 9102, RST | ACK)]);
    assert.deepEqual(h.closed, ['finished']);
  });

  test('a new SYN on a live 4-tuple resets the old session and starts a new one', () => {
    const h = new Harness();
    oneRequest(h);
    assert.deepEqual(h.client(10, clt(4000, 0, SYN)), [seg(1005, 9101, RST | ACK), seg(4000, 0, SYN)]);
    assert.deepEqual(h.closed, ['replaced']);
    assert.deepEqual([h.engine.size, h.counters.active, h.counters.released, h.registered.length], [1, 1, 1, 2]);
    assert.deepEqual(h.client(11, clt(4000, 0, SYN)), []);
  });
});

describe('timeouts', () => {
  test('session timeout (-t): no target packet while data waits ⇒ RST and obsolete', () => {
    const h = new Harness({ sessionTimeoutMs: 1000 });
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    assert.deepEqual(h.runUntil(1001), [
      seg(1001, 9001, ACK | PSH, 'req1'),
      seg(1001, 9001, ACK | PSH, 'req1'),
      seg(1005, 9001, RST | ACK),
    ]);
    assert.deepEqual(h.closed, ['sessionTimeout']);
    assert.deepEqual([h.counters.obsoleteDeleted, h.counters.retransmit, h.engine.nextDeadlineMs()], [1, 2, -1]);
  });

  test('keep-alive timeout (-k): an idle session is closed with an RST', () => {
    const h = new Harness({ keepaliveTimeoutMs: 5000 });
    oneRequest(h);
    assert.equal(h.engine.nextDeadlineMs(), 13); // the delayed ACK of the response
    assert.deepEqual(h.runUntil(13), [seg(1005, 9101, ACK)]);
    assert.equal(h.engine.nextDeadlineMs(), 5003);
    assert.deepEqual(h.runUntil(5002), []);
    assert.deepEqual(h.runUntil(5003), [seg(1005, 9101, RST | ACK)]);
    assert.deepEqual(h.closed, ['keepaliveTimeout']);
  });
});

describe('table and edges', () => {
  test('responses for unknown sessions and packets for unreplicated servers are counted or ignored', () => {
    const h = new Harness();
    assert.deepEqual(h.target(0, tgt(1, 1, ACK)), []);
    assert.equal(h.counters.respUnmatched, 1);
    h.engine.onClientPacket(0, { ...clt(1000, 0, SYN), dstPort: 81 });
    assert.deepEqual([h.out.length, h.counters.allClient], [0, 0]);
  });

  test('option validation', () => {
    assert.throws(
      () => new Harness({ sessionTimeoutMs: -1 }),
      (e: unknown) => e instanceof SessionError && e.code === 'BAD_OPTION',
    );
    assert.throws(() => new Harness({ advertisedWindowScale: 15 }), SessionError);
  });

  test('emitSegment builds a valid IPv4 packet', () => {
    const h = new Harness();
    h.handshake();
    h.engine.onClientPacket(2, clt(1001, 5001, ACK | PSH, 'req1'));
    const pkt = emitSegment(h.out[0]!);
    assert.ok(verifyIpv4HeaderChecksum(pkt, 0, 20));
    assert.ok(verifyTransportChecksum(pkt, 20, pkt.length - 20, pseudoSumV4(pkt, 12, pkt, 16, 6, pkt.length - 20)));
    assert.equal(pkt.length, 20 + 20 + 4);
    assert.equal(pkt.readUInt32BE(24), 1001);
    assert.equal(pkt.readUInt32BE(28), 9001);
    assert.equal(pkt.subarray(40).toString(), 'req1');
    assert.equal(pkt.subarray(12, 16).join('.'), CLIENT);
    assert.equal(pkt.subarray(16, 20).join('.'), TARGET);
    assert.equal(pkt.readUInt16BE(20), CPORT);
    assert.equal(pkt.readUInt16BE(22), TPORT);
  });
});
