// The offline report states the rate caps (--pps, --rps) and the rates achieved, in its JSON and its
// text; without a cap it has rateCap null and no line for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOfflineReport, formatOfflineReport } from '../../src/stats/offline-report.js';
import type { OfflineReportInput } from '../../src/stats/offline-report.js';

const input: OfflineReportInput = {
  file: 'f.pcapng',
  format: 'pcapng',
  loops: 1,
  durationMs: 2000,
  inFile: {
    packets: 400,
    bytes: 40_000,
    sessions: 100,
    sessionsWithoutSyn: 0,
    truncatedPackets: 0,
    nonTcpPackets: 0,
    nonIpPackets: 0,
    fragments: 0,
    unknownLinkTypes: {},
    unknownLinkTypePackets: 0,
    otherTcpPackets: 0,
    replyPackets: 0,
  },
  counters: {
    allClient: 400,
    send: 400,
    sendContent: 100,
    sendErrors: 0,
    conns: 100,
    reconnectNoSyn: 0,
    refusedNoSyn: 0,
    sampledOutSyns: 0,
  },
  activeAtEnd: 0,
  closeReasons: new Map([['finished', 100]]),
};

test('offline report: the caps and the achieved rates, JSON and text', () => {
  const rep = buildOfflineReport({
    ...input,
    rateCaps: { pps: { capPerS: 200, released: 400, achievedPerS: 199.987 }, rps: null },
  });
  assert.deepEqual(rep.rateCap, { pps: { capPerS: 200, released: 400, achievedPerS: 200 }, rps: null });
  const lines = formatOfflineReport(rep);
  assert.ok(
    lines.includes('  rate cap:        --pps 200: 400 packets, achieved 200 packets/s (first to last release)'),
    lines.join('\n'),
  );
  const both = formatOfflineReport(
    buildOfflineReport({
      ...input,
      rateCaps: {
        pps: { capPerS: 1000, released: 400, achievedPerS: 812.34 },
        rps: { capPerS: 50, released: 100, achievedPerS: 49.96 },
      },
    }),
  );
  assert.ok(
    both.includes(
      '  rate cap:        --pps 1000: 400 packets, achieved 812.3 packets/s; --rps 50: 100 requests, achieved 50 requests/s (first to last release)',
    ),
    both.join('\n'),
  );
});

test('offline report without a cap: rateCap null, no line', () => {
  for (const rep of [buildOfflineReport(input), buildOfflineReport({ ...input, rateCaps: { pps: null, rps: null } })]) {
    assert.equal(rep.rateCap, null);
    assert.ok(!formatOfflineReport(rep).some((l) => l.includes('rate cap')));
  }
});
