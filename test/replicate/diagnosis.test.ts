// tcpcopy's diagnosis (pure): intercept unreachable, SYNs without SYN-ACKs, intercept's NOTICEs
// logged with a repeat limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpcopyDiagnosis } from '../../src/tcpcopy/diagnosis.js';
import type { DiagnosisFacts } from '../../src/tcpcopy/diagnosis.js';

const facts = (connections: number, sendSyn: number, conns: number): DiagnosisFacts => ({
  connections,
  sendSyn,
  conns,
});

describe('TcpcopyDiagnosis', () => {
  test('no intercept connection for 5 s is reported once per 30 s', () => {
    const d = new TcpcopyDiagnosis({ intercepts: ['10.77.0.4:36524'] });
    for (let t = 0; t < 5000; t += 1000) assert.deepEqual(d.tick(t, facts(0, 0, 0)), []);
    const lines = d.tick(5000, facts(0, 0, 0));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.text, /no connection to intercept \(10\.77\.0\.4:36524\) for 5 s/);
    assert.deepEqual(d.tick(6000, facts(0, 0, 0)), [], 'not again within 30 s');
    assert.equal(d.tick(35_000, facts(0, 0, 0)).length, 1);
    assert.deepEqual(d.tick(36_000, facts(2, 0, 0)), []);
  });

  test('SYNs without SYN-ACKs for 5 s list the causes; an answer resets it', () => {
    const d = new TcpcopyDiagnosis({ intercepts: ['a:1'] });
    d.tick(0, facts(2, 0, 0));
    for (let t = 1000, s = 10; t < 6000; t += 1000, s += 10) assert.deepEqual(d.tick(t, facts(2, s, 0)), []);
    const lines = d.tick(6000, facts(2, 60, 0));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.text, /SYNs sent to the target for 5 s got no SYN-ACK back through intercept/);
    assert.match(lines[0]!.text, /routes the client addresses via the assistant/);
    const ok = new TcpcopyDiagnosis({ intercepts: ['a:1'] });
    ok.tick(0, facts(2, 0, 0));
    for (let t = 1000, s = 10; t < 20_000; t += 1000, s += 10) assert.deepEqual(ok.tick(t, facts(2, s, s - 5)), []);
  });

  test("intercept's notices are logged, each kind of each intercept at most every 30 s, and replace the generic hint", () => {
    const d = new TcpcopyDiagnosis({ intercepts: ['a:1'] });
    const m = { type: 'notice' as const, code: 3, message: "the target's replies do not pass this host" };
    assert.deepEqual(d.onNotice(0, m, '10.77.0.4:36524'), {
      level: 'warn',
      text: "diagnosis from intercept 10.77.0.4:36524: the target's replies do not pass this host",
    });
    assert.equal(d.onNotice(1000, m, '10.77.0.4:36524'), null);
    assert.notEqual(d.onNotice(1000, { ...m, code: 1 }, '10.77.0.4:36524'), null);
    assert.notEqual(d.onNotice(1000, m, '10.77.0.5:36524'), null);
    assert.equal(d.onNotice(1000, m, '10.77.0.5:36524#1'), null, 'another connection to the same intercept');
    // SYNs stuck since 1 s, but intercept spoke at 6.5 s: no generic hint until 30 s after it spoke.
    d.tick(0, facts(2, 0, 0));
    for (let t = 1000, s = 10; t <= 6000; t += 1000, s += 10) d.tick(t, facts(2, s, 0));
    assert.equal(d.onNotice(6500, m, '10.77.0.4:36524'), null, 'already logged, but it counts as intercept speaking');
    assert.deepEqual(d.tick(7000, facts(2, 70, 0)), []);
    assert.deepEqual(d.tick(36_000, facts(2, 80, 0)), []);
    assert.equal(d.tick(36_600, facts(2, 90, 0)).length, 1);
  });
});
