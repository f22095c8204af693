// The engine's backlog: captured bytes held for replay (queuedBytes), the replication lag (age of the
// oldest unsent captured byte) and shedding of the sessions furthest behind when the bound is reached.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, CLIENT, TARGET, TPORT } from './trace.js';

/** Opens a session on client port `port` (ISN 1000, target ISN 9000) and leaves it established. */
function open(h: Harness, now: number, port: number): void {
  h.client(now, clt(1000, 0, SYN, '', {}, port));
  h.engine.onTargetResponse(now, { ...tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }), dstPort: port });
  h.client(now, clt(1001, 5001, ACK, '', {}, port));
  h.take();
}

describe('backlog', () => {
  test('queued bytes follow what is held, the lag is the age of the oldest unsent byte', () => {
    const h = new Harness();
    open(h, 0, 40000);
    assert.deepEqual(h.engine.backlog(10), { lagMs: 0, queuedBytes: 0, waitingSessions: 0 });
    // req1 goes at once; req2 (a new request: its ack is past req1's) waits for req1's response.
    assert.deepEqual(h.client(100, clt(1001, 5001, ACK | PSH, 'req1')), [seg(1001, 9001, ACK | PSH, 'req1')]);
    assert.deepEqual(h.client(150, clt(1005, 5101, ACK | PSH, 'req22')), []);
    assert.equal(h.counters.queuedBytes, 4 + 5, 'req1 sent but unacknowledged, req2 unsent');
    assert.deepEqual(h.engine.backlog(400), { lagMs: 250, queuedBytes: 9, waitingSessions: 1 });
    // The target acknowledges req1 and answers it (PSH): req2 goes, carrying the ACK.
    assert.deepEqual(h.target(410, tgt(9001, 1005, ACK | PSH, 100)), [seg(1005, 9101, ACK | PSH, 'req22')]);
    assert.equal(h.counters.queuedBytes, 5);
    assert.deepEqual(h.engine.backlog(420), { lagMs: 0, queuedBytes: 5, waitingSessions: 0 });
    h.target(430, tgt(9101, 1010, ACK, 0));
    assert.equal(h.counters.queuedBytes, 0);
  });

  test('a closed session gives its bytes back', () => {
    const h = new Harness();
    open(h, 0, 40000);
    h.client(1, clt(1001, 5001, ACK | PSH, 'abcdef'));
    assert.equal(h.counters.queuedBytes, 6);
    h.target(2, tgt(9001, 1007, ACK));
    assert.equal(h.counters.queuedBytes, 0);
    h.client(3, clt(1007, 5001, ACK | PSH, 'ghi'));
    assert.equal(h.counters.queuedBytes, 3);
    h.target(4, tgt(9001, 1007, 0x004 /* RST */));
    assert.deepEqual(h.closed, ['targetReset']);
    assert.equal(h.counters.queuedBytes, 0);
  });

  test('past maxQueuedBytes the sessions furthest behind are shed (RST, counted) until under 90 %', () => {
    const h = new Harness({ maxQueuedBytes: 1000 });
    for (let i = 0; i < 4; i++) open(h, 0, 40000 + i);
    // Each session: a first request sent (unacknowledged) and a second one waiting, 100 + 150 bytes;
    // session i captured its waiting request at time 10 + i.
    for (let i = 0; i < 4; i++) {
      h.client(10 + i, clt(1001, 5001, ACK | PSH, 'a'.repeat(100), {}, 40000 + i));
      h.client(10 + i, clt(1101, 5201, ACK | PSH, 'b'.repeat(150), {}, 40000 + i));
    }
    assert.equal(h.counters.queuedBytes, 1000, 'at the bound: nothing shed yet');
    assert.equal(h.counters.shedSessions, 0);
    // One more byte on the newest session crosses the bound: the oldest (40000) is shed, leaving 750
    // (< 900), and nothing else.
    h.take();
    h.engine.onClientPacket(20, clt(1251, 5401, ACK | PSH, 'c', {}, 40003));
    assert.deepEqual([h.counters.shedSessions, h.counters.shedBytes, h.counters.queuedBytes], [1, 250, 751]);
    assert.deepEqual(h.closed, ['shed']);
    assert.deepEqual(
      h.out.map((s) => [s.srcPort, s.seq, s.ack, s.flags]),
      [[40000, 1101, 9001, 0x004 | ACK]],
      'the target is told with an RST',
    );
    assert.equal(h.engine.session(CLIENT, 40000, TARGET, TPORT), undefined);
    assert.ok(h.engine.session(CLIENT, 40001, TARGET, TPORT));
  });

  test('maxQueuedBytes 0: no bound', () => {
    const h = new Harness({ maxQueuedBytes: 0 });
    open(h, 0, 40000);
    h.client(1, clt(1001, 5001, ACK | PSH, 'x'.repeat(5000)));
    assert.equal(h.counters.shedSessions, 0);
    assert.equal(h.counters.queuedBytes, 5000);
  });
});

describe('stop', () => {
  test('stopAll resets the target side of every live session (RST at sndNxt, reason stopped), closed ones untouched', () => {
    const h = new Harness();
    open(h, 0, 40000);
    open(h, 0, 40001);
    // 40001 also has a request in flight; a third session is still in its handshake.
    h.client(5, clt(1001, 5001, ACK | PSH, 'req1', {}, 40001));
    h.client(6, clt(7000, 0, SYN, '', {}, 40002));
    h.take();
    assert.equal(h.counters.active, 3);
    assert.equal(h.engine.stopAll(10), 3);
    assert.deepEqual(h.closed, ['stopped', 'stopped', 'stopped']);
    assert.deepEqual(
      h.out.map((s) => [s.srcPort, s.seq, s.flags]).sort((a, b) => a[0]! - b[0]!),
      [
        [40000, 1001, 0x004 | ACK],
        [40001, 1005, 0x004 | ACK],
        [40002, 7001, 0x004],
      ],
    );
    assert.equal(h.counters.active, 0);
    assert.equal(h.counters.queuedBytes, 0);
    assert.equal(h.engine.stopAll(11), 0, 'nothing left to reset');
  });
});
