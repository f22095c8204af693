// intercept's statistics lines: exact text for given counters, its warning, its summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterceptCounters, formatInterceptStats, formatInterceptSummary } from '../../src/stats/index.js';
import type { InterceptCounters } from '../../src/stats/index.js';

function sample(): InterceptCounters {
  const c = createInterceptCounters();
  let i = 1;
  for (const k of Object.keys(c) as (keyof InterceptCounters)[]) c[k] = i++;
  return c;
}

test('formatInterceptStats: every counter in its place', () => {
  assert.deepEqual(
    formatInterceptStats(sample()).map((l) => `[${l.level}] ${l.text}`),
    [
      '[notice] total resp packs:1, all:2, route:3, sock write cnt:4',
      '[notice] cache hit:5,missed:6,lost:7',
      '[notice] sessions:8,registered:9,expired:10',
      '[notice] peers:11,refused peers:12,capture dropped:13',
      '[notice] misrouted:14,foreign unregistrations:15,merged replies:16',
    ],
  );
});

test('formatInterceptStats warns when responses arrive and no tcpcopy is connected', () => {
  const c = createInterceptCounters();
  assert.equal(formatInterceptStats(c).length, 5);
  c.responsePackets = 3;
  assert.deepEqual(formatInterceptStats(c).at(-1), {
    level: 'warn',
    text: 'responses captured but no tcpcopy is connected',
  });
  c.connectedPeers = 1;
  assert.equal(formatInterceptStats(c).length, 5);
});

test('formatInterceptSummary', () => {
  const lines = formatInterceptSummary(sample(), 61_250);
  assert.equal(lines[0]?.text, 'intercept summary after 61.3 s:');
  assert.equal(lines[1]?.text, 'total resp packs:1, all:2, route:3, sock write cnt:4');
  assert.equal(lines.length, 6);
  assert.equal(lines[5]?.text, 'misrouted:14,foreign unregistrations:15,merged replies:16');
});
