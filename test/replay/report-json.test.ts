// --report-json: both transports write one document shape (same keys at every level; a figure a
// transport does not measure is null, never missing), with whole milliseconds and no float noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOfflineReport } from '../../src/stats/offline-report.js';
import { packetReportJson, socketReportJson } from '../../src/replay/report-json.js';
import type { ReplayReportJson } from '../../src/replay/report-json.js';
import type { ReplayReport } from '../../src/replay/socket/index.js';
import type { MysqlFigures } from '../../src/mysql-replay/index.js';

const packet = buildOfflineReport({
  file: 'f.pcapng',
  format: 'pcapng',
  loops: 2,
  durationMs: 1230.3021239999998,
  inFile: {
    packets: 400,
    bytes: 40_000,
    sessions: 100,
    sessionsWithoutSyn: 3,
    truncatedPackets: 1,
    nonTcpPackets: 2,
    nonIpPackets: 0,
    fragments: 0,
    unknownLinkTypes: { 'DLT 147': 5 },
    unknownLinkTypePackets: 5,
    otherTcpPackets: 7,
    replyPackets: 150,
  },
  counters: {
    allClient: 500,
    send: 800,
    sendContent: 200,
    sendErrors: 0,
    conns: 198,
    reconnectNoSyn: 6,
    refusedNoSyn: 0,
    sampledOutSyns: 0,
  },
  activeAtEnd: 0,
  closeReasons: new Map([
    ['finished', 196],
    ['handshakeTimeout', 2],
  ]),
  rateCaps: { pps: { capPerS: 500, released: 800, achievedPerS: 499.91234 }, rps: null },
});

const socket: ReplayReport = {
  format: 'pcap',
  mysql: null,
  compare: null,
  mysqlFigures: null,
  capture: {
    read: 30,
    bytes: 3_333,
    undecodable: 1,
    nonTcp: 2,
    truncated: 0,
    otherPorts: 3,
    packets: 24,
    clientPackets: 14,
    serverPackets: 10,
    retransmitted: 1,
    overlapping: 0,
    outOfOrder: 0,
    gapBytes: 0,
    sessions: 5,
    joined: 1,
    noData: 1,
    afterClose: 0,
    noSession: 0,
  },
  sessionsTotal: 4,
  skipped: { noData: 1, sampledOut: 0, aborted: 0 },
  samplePercent: 100,
  copies: 2,
  replaysTotal: 8,
  replay: {
    sessionsStarted: 8,
    sessionsDone: 8,
    sessionsOpen: 0,
    requestsSent: 10,
    bytesSent: 1_000,
    responseBytes: 4_000,
    elapsedMs: 812.6,
    sessionsOk: 6,
    sessionsFailed: 2,
    sessionsConnected: 7,
    turnsSent: 10,
    responsesTruncated: 0,
    completedByLength: 9,
    completedByQuiet: 0,
    noReply: 1,
    failures: { connectRefused: 1, reset: 1, timeout: 0, targetClosed: 0, other: 0 },
    aborted: 0,
    mysqlSkipped: 0,
    rateCap: { requestsPerS: 20, achievedRequestsPerS: 19.9876543 },
  },
  durationMs: 812.5555555,
};

/** Every key path of a document; a null value and an object both end their path at the key itself. */
function keyPaths(doc: unknown, prefix = ''): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [prefix];
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => [
    `${prefix}${k}`,
    ...(v !== null && typeof v === 'object' && !isMap(k) ? keyPaths(v, `${prefix}${k}.`) : []),
  ]);
}
// Maps keyed by data (close reasons, link-type names), not by the schema.
const isMap = (k: string): boolean => k === 'closed' || k === 'unknownLinkTypes';

function numbers(doc: unknown, at = ''): [string, number][] {
  if (typeof doc === 'number') return [[at, doc]];
  if (doc === null || typeof doc !== 'object') return [];
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => numbers(v, at === '' ? k : `${at}.${k}`));
}

void test('both transports write the same keys at every level', () => {
  const p = packetReportJson(packet, { samplePercent: 100, copies: 1 });
  const s = socketReportJson(socket, 'f.pcap');
  // Below a value that is null in either document (a section one transport does not fill, a rate
  // cap not given), the keys are compared down to that value only.
  const at = (doc: unknown, path: string[]): unknown =>
    path.reduce<unknown>((v, k) => (v === null ? null : (v as Record<string, unknown>)[k]), doc);
  const shared = (a: ReplayReportJson, b: ReplayReportJson): string[] =>
    keyPaths(a).filter((path) => {
      const parts = path.split('.');
      return parts
        .slice(1)
        .every((_, i) => at(a, parts.slice(0, i + 1)) !== null && at(b, parts.slice(0, i + 1)) !== null);
    });
  assert.deepEqual(shared(p, s).sort(), shared(s, p).sort());
  assert.deepEqual(Object.keys(p), Object.keys(s));
  for (const section of ['requests', 'failures', 'stream'] as const) {
    assert.equal(p[section], null, `packet ${section}`);
    assert.notEqual(s[section], null, `socket ${section}`);
  }
  assert.equal(p.transport, 'packet');
  assert.equal(s.transport, 'socket');
});

void test('durations are whole milliseconds; counts integers; rates at most three decimals', () => {
  const p = packetReportJson(packet, { samplePercent: 100, copies: 1 });
  const s = socketReportJson(socket, 'f.pcap');
  assert.equal(p.durationMs, 1230);
  assert.equal(s.durationMs, 813);
  for (const doc of [p, s]) {
    for (const [path, n] of numbers(doc)) {
      if (path.startsWith('rates.') || path.endsWith('achievedPerS')) {
        assert.ok(Math.abs(n * 1000 - Math.round(n * 1000)) < 1e-6, `${path} = ${n}`);
      } else {
        assert.ok(Number.isInteger(n), `${path} = ${n} is not an integer`);
      }
    }
    assert.doesNotMatch(JSON.stringify(doc), /\d\.\d{4,}/);
  }
});

void test('the packet report keeps its figures under the common names', () => {
  const p = packetReportJson(packet, { samplePercent: 40, copies: 3 });
  assert.deepEqual(
    [p.report, p.version, p.file, p.format, p.loops, p.samplePercent, p.copies],
    ['tcpcopy-replay', 1, 'f.pcapng', 'pcapng', 2, 40, 3],
  );
  assert.deepEqual(p.packets, { inFile: 400, read: 800, replayed: 500, sent: 800, failedSends: 0 });
  assert.deepEqual(p.bytes, { read: 80_000, sentContentPackets: 200, sent: null, received: null });
  assert.deepEqual(p.sessions, {
    inFile: 200,
    withoutSyn: 6,
    joinedWithoutSyn: 6,
    replayed: 198,
    ok: null,
    failed: null,
    skipped: { noData: null, refusedNoSyn: 0, sampledOut: 0, noSynAck: 2, unfinished: 0, aborted: null },
    closed: { finished: 196, handshakeTimeout: 2 },
  });
  assert.deepEqual(p.input.unknownLinkTypes, { 'DLT 147': 10 });
  assert.equal(p.input.undecodablePackets, null);
  assert.deepEqual(p.rates, { packetsPerS: 650.2, sessionsPerS: 160.9, mbitPerS: 0.52, requestsPerS: null });
  assert.deepEqual(p.rateCap, { pps: { capPerS: 500, released: 800, achievedPerS: 499.9 }, rps: null });
});

void test('the socket report maps its counters to the common names', () => {
  const s = socketReportJson(socket, 'f.pcap');
  assert.deepEqual([s.file, s.format, s.loops, s.samplePercent, s.copies], ['f.pcap', 'pcap', 1, 100, 2]);
  assert.deepEqual(s.packets, { inFile: 30, read: 30, replayed: 14, sent: null, failedSends: null });
  assert.deepEqual(s.bytes, { read: 3_333, sentContentPackets: null, sent: 1_000, received: 4_000 });
  assert.deepEqual(s.sessions, {
    inFile: 5,
    withoutSyn: 1,
    joinedWithoutSyn: 1,
    replayed: 7,
    ok: 6,
    failed: 2,
    skipped: { noData: 1, refusedNoSyn: null, sampledOut: 0, noSynAck: null, unfinished: null, aborted: 0 },
    closed: null,
  });
  assert.deepEqual(s.failures, { refused: 1, reset: 1, timeout: 0, targetClosed: 0, other: 0 });
  assert.deepEqual(s.stream, { retransmitted: 1, overlapping: 0, outOfOrder: 0, gapBytes: 0 });
  assert.equal(s.input.undecodablePackets, 1);
  assert.equal(s.input.replyPackets, 10);
  // 813 ms: 30 packets, 7 sessions, 10 requests, 3,333 bytes.
  assert.deepEqual(s.rates, { packetsPerS: 36.9, sessionsPerS: 8.6, mbitPerS: 0.033, requestsPerS: 12.3 });
  assert.deepEqual(s.rateCap, { pps: null, rps: { capPerS: 20, released: 10, achievedPerS: 20 } });
});

void test('--mysql: the mode figures under `mysql` in both transports, null without it', () => {
  const figures: MysqlFigures = {
    sessions: 8,
    loginsRewritten: 8,
    authSwitches: 0,
    authOk: 7,
    authFailed: 1,
    noPassword: 0,
    tls: 0,
    unsupportedPlugin: 0,
    unparsable: 0,
    noReplyPayload: 0,
    joinedRebuilt: 2,
    joinedSkipped: 1,
    joinedStateReplayed: 1,
    stateRefused: 0,
    statementsPrepared: 144,
    statementIdRemaps: 25_501,
    unknownStatementIds: 0,
    prepareAnswersLost: 0,
    statementsOverCap: 0,
    orderWaits: 777,
    orderWaitsTimedOut: 3,
    orderWaitMs: 1_234,
    orderWritesDropped: 5,
  };
  assert.equal(packetReportJson(packet, { samplePercent: 100, copies: 1 }).mysql, null);
  assert.equal(socketReportJson(socket, 'f.pcap').mysql, null);
  assert.deepEqual(packetReportJson(packet, { samplePercent: 100, copies: 1, mysqlFigures: figures }).mysql, figures);
  assert.deepEqual(socketReportJson({ ...socket, mysqlFigures: figures }, 'f.pcap').mysql, figures);
  const parsed = JSON.parse(
    JSON.stringify(socketReportJson({ ...socket, mysqlFigures: figures }, 'f')),
  ) as ReplayReportJson;
  assert.equal(parsed.mysql?.orderWaits, 777);
});
