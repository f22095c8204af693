// The engine's session bound (-m): past maxSessions a new session sheds the oldest live one (by
// creation), counted as shed for memory; setBounds changes both bounds at run time and sheds down to
// them at once; closed sessions never count and never linger in the creation order.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, SYN, ACK, PSH, CLIENT, TARGET, TPORT } from './trace.js';

const RST = 0x004;
const FIN = 0x001;

function syn(h: Harness, now: number, port: number): void {
  h.client(now, clt(1000, 0, SYN, '', {}, port));
}

function live(h: Harness, ports: readonly number[]): number[] {
  return ports.filter((p) => h.engine.session(CLIENT, p, TARGET, TPORT) !== undefined);
}

describe('session bound', () => {
  test('a new session past maxSessions sheds the oldest (RST, counted), newest kept', () => {
    const h = new Harness({ maxSessions: 3 });
    for (let i = 0; i < 3; i++) syn(h, i, 40000 + i);
    assert.equal(h.engine.size, 3);
    h.engine.onClientPacket(10, clt(1000, 0, SYN, '', {}, 40003));
    const out = h.out.splice(0);
    assert.equal(h.engine.size, 3);
    assert.deepEqual(live(h, [40000, 40001, 40002, 40003]), [40001, 40002, 40003]);
    assert.deepEqual(h.closed, ['shed']);
    assert.deepEqual(
      [h.counters.shedSessions, h.counters.shedForMemory, h.counters.shedBytes],
      [1, 1, 1],
      'counted as shed for memory (its SYN was the one byte it held)',
    );
    // The shed session's RST goes out before the new session's SYN.
    assert.deepEqual(
      out.map((s) => [s.srcPort, s.flags & (RST | SYN)]),
      [
        [40000, RST],
        [40003, SYN],
      ],
    );
  });

  test('the bytes a shed session held are counted and given back', () => {
    const h = new Harness({ maxSessions: 2 });
    syn(h, 0, 40000);
    h.client(1, clt(1001, 0, ACK | PSH, 'x'.repeat(300), {}, 40000)); // waits for the handshake
    syn(h, 2, 40001);
    assert.equal(h.counters.queuedBytes, 1 + 300 + 1, 'two SYNs and the request');
    syn(h, 3, 40002);
    assert.deepEqual([h.counters.shedSessions, h.counters.shedBytes, h.counters.queuedBytes], [1, 301, 2]);
  });

  test('closed sessions do not count: 10,000 finished sessions under a bound of 4 shed nothing', () => {
    const h = new Harness({ maxSessions: 4 });
    for (let i = 0; i < 10_000; i++) {
      const port = 20000 + i;
      syn(h, i, port);
      h.client(i, clt(1001, 0, RST, '', {}, port)); // the client resets before the handshake: closed
    }
    assert.equal(h.engine.size, 0);
    assert.equal(h.counters.shedSessions, 0);
    // The creation order was swept: the next bound still sheds the right (oldest live) session.
    for (let i = 0; i < 5; i++) syn(h, 20_000 + i, 50000 + i);
    assert.deepEqual(live(h, [50000, 50001, 50002, 50003, 50004]), [50001, 50002, 50003, 50004]);
    assert.equal(h.counters.shedSessions, 1);
  });

  test('a session closed while old is skipped: the oldest live one is shed', () => {
    const h = new Harness({ maxSessions: 3 });
    for (let i = 0; i < 3; i++) syn(h, i, 40000 + i);
    h.client(5, clt(1001, 0, RST, '', {}, 40000));
    syn(h, 6, 40003);
    syn(h, 7, 40004);
    assert.deepEqual(live(h, [40000, 40001, 40002, 40003, 40004]), [40002, 40003, 40004]);
    assert.equal(h.counters.shedSessions, 1);
  });

  test('setBounds: sheds down to a lower session bound at once, oldest first; raising sheds nothing', () => {
    const h = new Harness();
    for (let i = 0; i < 10; i++) syn(h, i, 40000 + i);
    assert.deepEqual(h.engine.bounds, { sessions: 0, queuedBytes: 512 * 1024 * 1024 });
    h.engine.setBounds(20, { sessions: 4, queuedBytes: 512 * 1024 * 1024 });
    assert.equal(h.engine.size, 4);
    assert.deepEqual(live(h, [40000, 40005, 40006, 40007, 40008, 40009]), [40006, 40007, 40008, 40009]);
    assert.deepEqual([h.counters.shedSessions, h.counters.shedForMemory], [6, 6]);
    h.engine.setBounds(21, { sessions: 100, queuedBytes: 512 * 1024 * 1024 });
    for (let i = 0; i < 10; i++) syn(h, 30 + i, 41000 + i);
    assert.equal(h.engine.size, 14);
    assert.equal(h.counters.shedSessions, 6);
    assert.throws(() => h.engine.setBounds(22, { sessions: -1, queuedBytes: 0 }), /bounds must be safe integers/);
  });

  test('a backlog bound lowered by setBounds sheds the sessions furthest behind, counted as for memory', () => {
    const h = new Harness({ maxQueuedBytes: 10_000 });
    for (let i = 0; i < 4; i++) {
      syn(h, i, 40000 + i);
      h.client(i, clt(1001, 0, ACK | PSH, 'y'.repeat(100), {}, 40000 + i));
    }
    assert.equal(h.counters.queuedBytes, 4 * 101, 'each: its SYN and a request');
    h.engine.setBounds(10, { sessions: 0, queuedBytes: 250 });
    // Under 90 % of 250 = 225: the two oldest go.
    assert.deepEqual(live(h, [40000, 40001, 40002, 40003]), [40002, 40003]);
    assert.deepEqual([h.counters.shedSessions, h.counters.shedForMemory, h.counters.queuedBytes], [2, 2, 202]);
    // At the options' own bound a shed is a backlog shed, not for memory.
    h.engine.setBounds(11, { sessions: 0, queuedBytes: 10_000 });
    h.client(12, clt(1101, 0, ACK | PSH, 'z'.repeat(9_850), {}, 40002));
    assert.deepEqual(live(h, [40002, 40003]), [40003]);
    assert.equal(h.counters.shedSessions, 3);
    assert.equal(h.counters.shedForMemory, 2);
  });

  test('a FIN-finished session frees its place', () => {
    const h = new Harness({ maxSessions: 1 });
    syn(h, 0, 40000);
    h.engine.onTargetResponse(1, { ...tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 }), dstPort: 40000 });
    h.client(2, clt(1001, 9001, ACK | FIN, '', {}, 40000));
    h.engine.onTargetResponse(3, { ...tgt(9001, 1002, ACK | FIN, 0), dstPort: 40000 });
    h.client(4, clt(1002, 9002, ACK, '', {}, 40000));
    syn(h, 5, 40001);
    assert.equal(h.counters.shedSessions, 0, `closed: ${h.closed.join(',')}`);
  });
});
