// The replication lab's pure parts: final-summary parsing (tcpcopy's and intercept's exact line
// shapes, from the formatters themselves), the channel connection count, redis-benchmark output and
// INFO commandstats. No root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSummary, channelConnections, parseRedisBenchmark, parseCommandCalls } from '../lab/index.js';
import { newCounters } from '../../src/session/index.js';
import { SUMMARY_COUNTERS } from '../support/counters.js';
import {
  formatTcpcopySummary,
  formatInterceptSummary,
  newEdgeCounters,
  createInterceptCounters,
} from '../../src/stats/index.js';
import { formatLogLine } from '../../src/log/index.js';
import type { TcpcopyCounters, InterceptCounters } from '../../src/stats/index.js';
import type { LogLine } from '../../src/log/index.js';

/** base with the named fields set to distinct numbers (1, 2, 3, ... in key order). */
function distinct<T extends object>(base: T, keys: readonly (keyof T)[]): T {
  const o: Record<string, number> = {};
  keys.forEach((k, i) => {
    o[String(k)] = i + 1;
  });
  return { ...base, ...o };
}

const log = (lines: readonly LogLine[]): string =>
  lines.map((l) => formatLogLine(Date.UTC(2026, 10, 23, 9, 0, 0), l.level, l.text, true)).join('');

test('parseSummary reads every counter of the last tcpcopy summary', () => {
  const keys = SUMMARY_COUNTERS;
  const c = distinct<TcpcopyCounters>({ ...newCounters(), ...newEdgeCounters() }, keys);
  const early = log(formatTcpcopySummary({ ...c, conns: 999 }, 1000));
  const text = `${early}noise line\n${log([{ level: 'notice', text: 'SIGTERM received, stopping' }])}${log(formatTcpcopySummary(c, 12_345))}`;
  const s = parseSummary(text, 'tcpcopy');
  assert.ok(s);
  assert.equal(s.elapsedS, 12.3);
  assert.equal(s.get('conns'), c.conns);
  assert.equal(s.get('for no syn'), c.reconnectNoSyn);
  assert.equal(s.get('capture dropped'), c.captureDrops);
  assert.equal(s.get('send errors'), c.sendErrors);
  assert.equal(s.get('send content'), c.sendContent);
  assert.equal(s.get('syn cnt'), c.synCount);
  assert.equal(s.get('retransmit'), c.retransmit);
  assert.equal(s.get('fin'), c.sendFin);
  assert.equal(s.get('frag'), c.fragments);
  for (const k of s.counters.keys()) assert.match(k, /^[a-z][a-z -]*[a-z]$/, 'counter names are words');
  assert.ok(s.counters.size >= keys.length, [...s.counters.keys()].join(','));
  assert.throws(() => s.get('no such counter'), /no counter "no such counter"/);
  assert.equal(parseSummary(text, 'intercept'), null);
  assert.equal(parseSummary('', 'tcpcopy'), null);
});

test('parseSummary reads every counter of an intercept summary', () => {
  const keys: (keyof InterceptCounters)[] = [
    'responsePackets',
    'capturedPackets',
    'routedResponses',
    'socketWrites',
    'routeHits',
    'routeMisses',
    'lostResponses',
    'registeredSessions',
    'registrations',
    'expiredRegistrations',
    'connectedPeers',
    'refusedPeers',
    'captureDrops',
  ];
  const c = distinct<InterceptCounters>(createInterceptCounters(), keys);
  const s = parseSummary(log(formatInterceptSummary(c, 4000)), 'intercept');
  assert.ok(s);
  assert.equal(s.elapsedS, 4);
  assert.equal(s.get('total resp packs'), c.responsePackets);
  assert.equal(s.get('cache hit'), c.routeHits);
  assert.equal(s.get('missed'), c.routeMisses);
  assert.equal(s.get('capture dropped'), c.captureDrops);
  assert.ok(s.counters.size >= keys.length);
});

test('channelConnections follows -C / --connections, default 2', () => {
  assert.equal(channelConnections([]), 2);
  assert.equal(channelConnections(['-B', '32', '-C', '4']), 4);
  assert.equal(channelConnections(['--connections', '1']), 1);
  assert.equal(channelConnections(['--connections=7']), 7);
});

test('parseRedisBenchmark reads the -q lines after their progress updates', () => {
  const text =
    'SET: rps=0.0 (overall: nan) avg_msec=nan\rSET: 30349.01 requests per second, p50=0.367 msec\n' +
    'INCR: 38610.04 requests per second, p50=0.311 msec\nLPUSH: 39215.69 requests per second, p50=0.3 msec\n' +
    'HSET: 35335.69 requests per second, p50=0.3 msec\n\n';
  assert.deepEqual(
    [...parseRedisBenchmark(text)],
    [
      ['SET', 30349.01],
      ['INCR', 38610.04],
      ['LPUSH', 39215.69],
      ['HSET', 35335.69],
    ],
  );
  assert.equal(parseRedisBenchmark('').size, 0);
});

test('parseCommandCalls reads INFO commandstats', () => {
  const info =
    '# Commandstats\r\ncmdstat_set:calls=20000,usec=1,usec_per_call=0.1,rejected_calls=0,failed_calls=0\r\n' +
    'cmdstat_config|get:calls=2,usec=5\r\ncmdstat_hset:calls=19734,usec=9\r\n';
  assert.deepEqual(
    [...parseCommandCalls(info)],
    [
      ['set', 20000],
      ['config|get', 2],
      ['hset', 19734],
    ],
  );
});
