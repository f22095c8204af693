// The session's states × events, table-driven: each row starts a session in one (state, client side)
// and applies one event, then checks the state it moves to, the close reason and the exact segments
// sent. States (session.ts): SYN_SENT, ESTABLISHED, CLOSE_WAIT (the target closed its side), CLOSED;
// client side: OPEN, RESET (the client reset: what it sent before is drained, then the target is reset).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clt, tgt, seg, SYN, ACK, PSH, FIN, RST, CLIENT, CPORT, TARGET, TPORT } from './trace.js';
import type { Seg } from './trace.js';
import { Timer } from '../../src/session/index.js';

/** Each setup leaves req1 (client bytes 1001..1004) sent and unacknowledged, except SYN_SENT's. */
const SETUPS: Record<string, (h: Harness) => void> = {
  'SYN_SENT/OPEN': (h) => {
    h.client(0, clt(1000, 0, SYN));
  },
  'SYN_SENT/RESET': (h) => {
    h.client(0, clt(1000, 0, SYN));
    h.client(1, clt(1001, 5001, ACK | PSH, 'req1')); // held until the handshake completes
    h.client(2, clt(1005, 5001, RST | ACK));
  },
  'ESTABLISHED/OPEN': (h) => {
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
  },
  'ESTABLISHED/RESET': (h) => {
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.client(3, clt(1005, 5001, RST | ACK));
  },
  'CLOSE_WAIT/OPEN': (h) => {
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.target(3, tgt(9001, 1001, ACK | FIN));
  },
  'CLOSE_WAIT/RESET': (h) => {
    h.handshake();
    h.client(2, clt(1001, 5001, ACK | PSH, 'req1'));
    h.target(3, tgt(9001, 1001, ACK | FIN));
    h.client(4, clt(1005, 5001, RST | ACK));
  },
};

const EVENTS: Record<string, (h: Harness) => Seg[]> = {
  'client data': (h) => h.client(10, clt(1005, 5101, ACK | PSH, 'req2')),
  'client FIN': (h) => h.client(10, clt(1005, 5101, ACK | FIN)),
  'client RST': (h) => h.client(10, clt(1005, 5101, RST | ACK)),
  'target SYN-ACK': (h) => h.target(10, tgt(9000, 1001, SYN | ACK, 0, { mss: 1460 })),
  'target ACK + response': (h) => h.target(10, tgt(9001, 1005, ACK | PSH, 100)),
  'target FIN': (h) => h.target(10, tgt(9001, 1005, ACK | FIN)),
  'target RST': (h) => h.target(10, tgt(9001, 0, RST)),
  'timer at 60 s': (h) => h.timer(60_000),
};

type Row = [setup: string, event: string, after: string, closed: string, sent: Seg[]];

const R1 = seg(1001, 9001, ACK | PSH, 'req1');
const TABLE: Row[] = [
  // SYN_SENT: client bytes wait for the handshake; only an ACK of our SYN counts.
  ['SYN_SENT/OPEN', 'client data', 'SYN_SENT/OPEN', '', []],
  ['SYN_SENT/OPEN', 'client FIN', 'SYN_SENT/OPEN', '', []],
  ['SYN_SENT/OPEN', 'client RST', 'gone', 'clientReset', [seg(1001, 0, RST)]],
  ['SYN_SENT/OPEN', 'target SYN-ACK', 'ESTABLISHED/OPEN', '', [seg(1001, 9001, ACK)]],
  ['SYN_SENT/OPEN', 'target ACK + response', 'SYN_SENT/OPEN', '', [seg(1005, 0, RST)]], // an older connection's ACK: reset it
  ['SYN_SENT/OPEN', 'target FIN', 'SYN_SENT/OPEN', '', [seg(1005, 0, RST)]],
  ['SYN_SENT/OPEN', 'target RST', 'SYN_SENT/OPEN', '', []], // does not acknowledge our SYN: stale
  ['SYN_SENT/OPEN', 'timer at 60 s', 'gone', 'handshakeTimeout', [seg(1001, 0, RST)]],
  ['SYN_SENT/RESET', 'client data', 'SYN_SENT/RESET', '', []],
  ['SYN_SENT/RESET', 'client FIN', 'SYN_SENT/RESET', '', []],
  ['SYN_SENT/RESET', 'client RST', 'SYN_SENT/RESET', '', []],
  ['SYN_SENT/RESET', 'target SYN-ACK', 'ESTABLISHED/RESET', '', [R1]], // the drained request carries the handshake ACK
  ['SYN_SENT/RESET', 'target ACK + response', 'SYN_SENT/RESET', '', [seg(1005, 0, RST)]],
  ['SYN_SENT/RESET', 'target FIN', 'SYN_SENT/RESET', '', [seg(1005, 0, RST)]],
  ['SYN_SENT/RESET', 'target RST', 'SYN_SENT/RESET', '', []],
  ['SYN_SENT/RESET', 'timer at 60 s', 'gone', 'handshakeTimeout', [seg(1001, 0, RST)]],
  // ESTABLISHED with req1 unacknowledged: the next request waits for its answer.
  ['ESTABLISHED/OPEN', 'client data', 'ESTABLISHED/OPEN', '', []],
  ['ESTABLISHED/OPEN', 'client FIN', 'ESTABLISHED/OPEN', '', []],
  ['ESTABLISHED/OPEN', 'client RST', 'ESTABLISHED/RESET', '', []], // drains: req1 must be answered first
  ['ESTABLISHED/OPEN', 'target SYN-ACK', 'ESTABLISHED/OPEN', '', [seg(1005, 9001, ACK)]], // our handshake ACK was lost
  ['ESTABLISHED/OPEN', 'target ACK + response', 'ESTABLISHED/OPEN', '', []], // delayed ACK: the next request will carry it
  ['ESTABLISHED/OPEN', 'target FIN', 'gone', 'finished', [seg(1005, 9002, ACK), seg(1005, 9002, RST | ACK)]],
  ['ESTABLISHED/OPEN', 'target RST', 'SYN_SENT/OPEN', '', [seg(1000, 0, SYN)]], // it saw nothing: the same SYN again
  ['ESTABLISHED/OPEN', 'timer at 60 s', 'ESTABLISHED/OPEN', '', [R1]], // RTO
  ['ESTABLISHED/RESET', 'client data', 'ESTABLISHED/RESET', '', []],
  ['ESTABLISHED/RESET', 'client FIN', 'ESTABLISHED/RESET', '', []],
  ['ESTABLISHED/RESET', 'client RST', 'ESTABLISHED/RESET', '', []],
  ['ESTABLISHED/RESET', 'target SYN-ACK', 'ESTABLISHED/RESET', '', [seg(1005, 9001, ACK)]],
  ['ESTABLISHED/RESET', 'target ACK + response', 'gone', 'clientReset', [seg(1005, 9101, RST | ACK)]],
  ['ESTABLISHED/RESET', 'target FIN', 'gone', 'clientReset', [seg(1005, 9002, ACK), seg(1005, 9002, RST | ACK)]],
  ['ESTABLISHED/RESET', 'target RST', 'SYN_SENT/RESET', '', [seg(1000, 0, SYN)]],
  ['ESTABLISHED/RESET', 'timer at 60 s', 'ESTABLISHED/RESET', '', [R1]],
  // CLOSE_WAIT: the target's FIN (seq 9001) is acknowledged; req1 is still unacknowledged.
  ['CLOSE_WAIT/OPEN', 'client data', 'CLOSE_WAIT/OPEN', '', []],
  ['CLOSE_WAIT/OPEN', 'client FIN', 'CLOSE_WAIT/OPEN', '', []],
  ['CLOSE_WAIT/OPEN', 'client RST', 'CLOSE_WAIT/RESET', '', []],
  ['CLOSE_WAIT/OPEN', 'target SYN-ACK', 'CLOSE_WAIT/OPEN', '', [seg(1005, 9002, ACK)]],
  ['CLOSE_WAIT/OPEN', 'target ACK + response', 'gone', 'finished', [seg(1005, 9101, RST | ACK)]],
  ['CLOSE_WAIT/OPEN', 'target FIN', 'gone', 'finished', [seg(1005, 9002, RST | ACK)]],
  ['CLOSE_WAIT/OPEN', 'target RST', 'gone', 'targetReset', []], // no restart once the target has closed
  ['CLOSE_WAIT/OPEN', 'timer at 60 s', 'CLOSE_WAIT/OPEN', '', [seg(1001, 9002, ACK | PSH, 'req1')]],
  ['CLOSE_WAIT/RESET', 'client data', 'CLOSE_WAIT/RESET', '', []],
  ['CLOSE_WAIT/RESET', 'client FIN', 'CLOSE_WAIT/RESET', '', []],
  ['CLOSE_WAIT/RESET', 'client RST', 'CLOSE_WAIT/RESET', '', []],
  ['CLOSE_WAIT/RESET', 'target SYN-ACK', 'CLOSE_WAIT/RESET', '', [seg(1005, 9002, ACK)]],
  ['CLOSE_WAIT/RESET', 'target ACK + response', 'gone', 'clientReset', [seg(1005, 9101, RST | ACK)]],
  ['CLOSE_WAIT/RESET', 'target FIN', 'gone', 'clientReset', [seg(1005, 9002, RST | ACK)]],
  ['CLOSE_WAIT/RESET', 'target RST', 'gone', 'targetReset', []],
  ['CLOSE_WAIT/RESET', 'timer at 60 s', 'CLOSE_WAIT/RESET', '', [seg(1001, 9002, ACK | PSH, 'req1')]],
];

function where(h: Harness): string {
  const s = h.engine.session(CLIENT, CPORT, TARGET, TPORT);
  return s ? `${s.state}/${s.client}` : 'gone';
}

void describe('session states × events', () => {
  void test('the table covers every setup × event once', () => {
    const keys = TABLE.map(([s, e]) => `${s} × ${e}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(keys.length, Object.keys(SETUPS).length * Object.keys(EVENTS).length);
  });

  for (const [setup, event, after, closed, sent] of TABLE) {
    void test(`${setup} × ${event} → ${after}${closed ? ` (${closed})` : ''}`, () => {
      const h = new Harness();
      SETUPS[setup]!(h);
      h.take();
      assert.equal(where(h), setup, 'the setup reaches its state');
      const before = h.closed.length;
      const out = EVENTS[event]!(h);
      assert.equal(where(h), after);
      assert.deepEqual(h.closed.slice(before), closed ? [closed] : []);
      assert.deepEqual(out, sent);
    });
  }

  void test('CLOSED ignores every input and has no deadline', () => {
    const h = new Harness();
    h.handshake();
    const s = h.engine.session(CLIENT, CPORT, TARGET, TPORT)!;
    h.client(2, clt(1001, 5001, RST | ACK));
    assert.deepEqual(h.closed, ['clientReset']);
    assert.equal(s.state, 'CLOSED');
    s.onClientPacket(3, clt(1001, 5001, ACK | PSH, 'late'));
    s.onTargetResponse(3, tgt(9001, 1001, ACK | PSH, 10));
    s.onTimer(1e9);
    assert.deepEqual(h.take(), []);
    assert.equal(s.nextDeadlineMs(), Infinity);
    assert.equal(s.state, 'CLOSED');
  });
});

void describe('Timer', () => {
  void test('disarmed is +Infinity; arm, armIfIdle, cancel, isDue', () => {
    const t = new Timer();
    assert.deepEqual([t.armed, t.at, t.isDue(1e12)], [false, Infinity, false]);
    t.armIfIdle(50);
    t.armIfIdle(10); // keeps the first deadline
    assert.deepEqual([t.armed, t.at, t.isDue(49), t.isDue(50)], [true, 50, false, true]);
    t.arm(20); // moves it
    assert.equal(t.at, 20);
    t.cancel();
    assert.deepEqual([t.armed, t.at, t.isDue(1e12)], [false, Infinity, false]);
  });
});
