// tcpcopy's statistics lines: exact text in the C tool's shapes for given counters, the two
// diagnoses with their thresholds, and the final summary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTcpcopyCounters, formatCloseReasons, formatTcpcopyStats, formatTcpcopySummary } from '../../src/stats/index.js';
import type { TcpcopyCounters } from '../../src/stats/index.js';

function sample(): TcpcopyCounters {
  const c = createTcpcopyCounters();
  let i = 1;
  for (const k of Object.keys(c) as (keyof TcpcopyCounters)[]) c[k] = i++;
  return c;
}

describe('formatTcpcopyStats', () => {
  void test('every counter in its place', () => {
    const lines = formatTcpcopyStats(sample(), 1000);
    assert.deepEqual(
      lines.map((l) => `[${l.level}] ${l.text}`),
      [
        '[notice] active:1,rel:2,obs del:3,tw:4',
        '[notice] conns:5,resp:6,c-resp:7',
        '[notice] resp fin:8,resp rst:9',
        '[notice] send:10,send content:11',
        '[notice] send syn:12, fin:13,reset:14',
        '[notice] reconnect:15,for no syn:16',
        '[notice] retransmit:17 / recv packs after retransmission:18',
        '[notice] syn cnt:19,all clt:20,clt cont:21',
        '[notice] total cont retransmit:22, frag:23',
        '[notice] total captured packets:24',
        '[notice] capture dropped:25,send errors:26,buffer overflow:27',
        '[notice] replication lag:30 ms,queued:31 bytes,shed sessions:32,shed bytes:33',
        '[notice] stale target rst:34,handshake restarts:35',
      ],
    );
  });

  void test('all zero', () => {
    const lines = formatTcpcopyStats(createTcpcopyCounters(), 60_000);
    assert.equal(lines.length, 13);
    assert.equal(lines[0]?.text, 'active:0,rel:0,obs del:0,tw:0');
    assert.equal(lines[9]?.text, 'total captured packets:0');
  });

  void test('large counts print in full', () => {
    const c = createTcpcopyCounters();
    c.capturedPackets = 2 ** 40 + 7;
    assert.equal(formatTcpcopyStats(c, 0)[9]?.text, 'total captured packets:1099511627783');
  });

  void test("\"many connections can't be established\": integer percent of live sessions under 80, only after 3 s", () => {
    const c = createTcpcopyCounters();
    c.activeSessions = 100;
    c.establishedConnections = 79;
    const warn = "many connections can't be established";
    assert.ok(!formatTcpcopyStats(c, 3000).some((l) => l.text === warn), 'not before 3 s');
    assert.deepEqual(formatTcpcopyStats(c, 3001).at(-1), { level: 'warn', text: warn });
    c.establishedConnections = 80;
    assert.ok(!formatTcpcopyStats(c, 10_000).some((l) => l.level === 'warn'));
    c.activeSessions = 0;
    c.establishedConnections = 0;
    assert.ok(!formatTcpcopyStats(c, 10_000).some((l) => l.level === 'warn'), 'no sessions, no diagnosis');
    c.activeSessions = 3;
    c.establishedConnections = 2; // 66 %
    assert.ok(formatTcpcopyStats(c, 10_000).some((l) => l.text === warn));
  });

  void test('"no responses after N seconds" when requests went out and no response carried payload', () => {
    const c = createTcpcopyCounters();
    c.sentContentPackets = 5;
    assert.deepEqual(formatTcpcopyStats(c, 12_900).at(-1), { level: 'warn', text: 'no responses after 12 seconds' });
    assert.ok(!formatTcpcopyStats(c, 2000).some((l) => l.level === 'warn'));
    c.responseContentPackets = 1;
    assert.ok(!formatTcpcopyStats(c, 12_900).some((l) => l.level === 'warn'));
    c.responseContentPackets = 0;
    c.sentContentPackets = 0;
    assert.ok(!formatTcpcopyStats(c, 12_900).some((l) => l.level === 'warn'), 'nothing sent yet: nothing to diagnose');
  });
});

describe('formatTcpcopySummary', () => {
  void test('header, the counter lines, rates per second', () => {
    const c = createTcpcopyCounters();
    c.capturedPackets = 3000;
    c.sentPackets = 1500;
    c.sentContentPackets = 500;
    c.clientPackets = 1500;
    c.loopDelayP99Ms = 12.345;
    c.loopDelayMaxMs = 80;
    const lines = formatTcpcopySummary(c, 1500);
    assert.equal(lines[0]?.text, 'tcpcopy summary after 1.5 s:');
    assert.equal(lines[4]?.text, 'send:1500,send content:500');
    assert.equal(lines.at(-1)?.text, 'rates: captured 2000 pkt/s, sent 1000 pkt/s, sent content 333 pkt/s');
    assert.equal(lines.at(-2)?.text, 'event loop delay: p99 12.3 ms, max 80.0 ms');
    assert.equal(lines.length, 16);
    assert.ok(lines.every((l) => l.level === 'notice'));
    assert.equal(formatTcpcopySummary(c, 0).at(-1)?.text, 'rates: captured 0 pkt/s, sent 0 pkt/s, sent content 0 pkt/s');
  });
});

describe('formatCloseReasons', () => {
  void test('the reasons that occurred, in order, camelCase spelled out', () => {
    const m = new Map([['finished', 12], ['clientReset', 0], ['handshakeTimeout', 3]]);
    assert.deepEqual(formatCloseReasons(m), { level: 'notice', text: 'closed: finished 12, handshake timeout 3' });
    assert.equal(formatCloseReasons(new Map()).text, 'closed: none');
  });
});
