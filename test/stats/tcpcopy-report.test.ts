// tcpcopy's statistics lines: exact text in the C tool's shapes for given counters, the two
// diagnoses with their thresholds, and the final summary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newCounters } from '../../src/session/index.js';
import {
  formatCloseReasons,
  formatTcpcopyStats,
  formatTcpcopySummary,
  newEdgeCounters,
} from '../../src/stats/index.js';
import type { TcpcopyCounters } from '../../src/stats/index.js';
import { STATS_COUNTERS } from '../support/counters.js';

const zero = (): TcpcopyCounters => ({ ...newCounters(), ...newEdgeCounters() });

/** Every counter the lines print, in print order, set to 1, 2, 3, ... */
function sample(): TcpcopyCounters {
  const printed = STATS_COUNTERS;
  const c = zero();
  printed.forEach((k, i) => {
    c[k] = i + 1;
  });
  return c;
}

describe('formatTcpcopyStats', () => {
  void test('every counter in its place', () => {
    const lines = formatTcpcopyStats(sample(), 1000);
    assert.deepEqual(
      lines.map((l) => `[${l.level}] ${l.text}`),
      [
        '[notice] active:1,rel:2,obs del:3',
        '[notice] conns:4,resp:5,c-resp:6',
        '[notice] resp fin:7,resp rst:8',
        '[notice] send:9,send content:10',
        '[notice] send syn:11, fin:12,reset:13',
        '[notice] for no syn:14',
        '[notice] retransmit:15',
        '[notice] syn cnt:16,all clt:17,clt cont:18',
        '[notice] total cont retransmit:19, frag:20',
        '[notice] total captured packets:21',
        '[notice] capture dropped:22,send errors:23,buffer overflow:24',
        '[notice] replication lag:25 ms,queued:26 bytes,shed sessions:27,shed bytes:28,shed for memory:29',
        '[notice] stale target rst:30,handshake restarts:31',
      ],
    );
  });

  void test('all zero', () => {
    const lines = formatTcpcopyStats(zero(), 60_000);
    assert.equal(lines.length, 13);
    assert.equal(lines[0]?.text, 'active:0,rel:0,obs del:0');
    assert.equal(lines[9]?.text, 'total captured packets:0');
  });

  void test('large counts print in full', () => {
    const c = zero();
    c.capturedPackets = 2 ** 40 + 7;
    assert.equal(formatTcpcopyStats(c, 0)[9]?.text, 'total captured packets:1099511627783');
  });

  void test('"many connections can\'t be established": integer percent of live sessions under 80, only after 3 s', () => {
    const c = zero();
    c.active = 100;
    c.conns = 79;
    const warn = "many connections can't be established";
    assert.ok(!formatTcpcopyStats(c, 3000).some((l) => l.text === warn), 'not before 3 s');
    assert.deepEqual(formatTcpcopyStats(c, 3001).at(-1), { level: 'warn', text: warn });
    c.conns = 80;
    assert.ok(!formatTcpcopyStats(c, 10_000).some((l) => l.level === 'warn'));
    c.active = 0;
    c.conns = 0;
    assert.ok(!formatTcpcopyStats(c, 10_000).some((l) => l.level === 'warn'), 'no sessions, no diagnosis');
    c.active = 3;
    c.conns = 2; // 66 %
    assert.ok(formatTcpcopyStats(c, 10_000).some((l) => l.text === warn));
  });

  void test('"no responses after N seconds" when requests went out and no response carried payload', () => {
    const c = zero();
    c.sendContent = 5;
    assert.deepEqual(formatTcpcopyStats(c, 12_900).at(-1), { level: 'warn', text: 'no responses after 12 seconds' });
    assert.ok(!formatTcpcopyStats(c, 2000).some((l) => l.level === 'warn'));
    c.respContent = 1;
    assert.ok(!formatTcpcopyStats(c, 12_900).some((l) => l.level === 'warn'));
    c.respContent = 0;
    c.sendContent = 0;
    assert.ok(!formatTcpcopyStats(c, 12_900).some((l) => l.level === 'warn'), 'nothing sent yet: nothing to diagnose');
  });
});

describe('formatTcpcopySummary', () => {
  void test('header, the counter lines, rates per second', () => {
    const c = zero();
    c.capturedPackets = 3000;
    c.send = 1500;
    c.sendContent = 500;
    c.allClient = 1500;
    c.loopDelayP99Ms = 12.345;
    c.loopDelayMaxMs = 80;
    const lines = formatTcpcopySummary(c, 1500);
    assert.equal(lines[0]?.text, 'tcpcopy summary after 1.5 s:');
    assert.equal(lines[4]?.text, 'send:1500,send content:500');
    assert.equal(lines.at(-1)?.text, 'rates: captured 2000 pkt/s, sent 1000 pkt/s, sent content 333 pkt/s');
    assert.equal(lines.at(-2)?.text, 'event loop delay: p99 12.3 ms, max 80.0 ms');
    assert.equal(lines.length, 16);
    assert.ok(lines.every((l) => l.level === 'notice'));
    assert.equal(
      formatTcpcopySummary(c, 0).at(-1)?.text,
      'rates: captured 0 pkt/s, sent 0 pkt/s, sent content 0 pkt/s',
    );
  });
});

describe('formatCloseReasons', () => {
  void test('the reasons that occurred, in order, camelCase spelled out', () => {
    const m = new Map([
      ['finished', 12],
      ['clientReset', 0],
      ['handshakeTimeout', 3],
    ]);
    assert.deepEqual(formatCloseReasons(m), { level: 'notice', text: 'closed: finished 12, handshake timeout 3' });
    assert.equal(formatCloseReasons(new Map()).text, 'closed: none');
  });
});
