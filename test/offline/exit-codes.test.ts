// tcpcopy's exit codes for offline replay (src/exit-codes.ts), through bin/tcpcopy with real
// sockets on loopback: 0 when every session was replayed, 2 for bad input found before any work
// (a --report-json path in a missing directory: the target sees no connection), 3 when nothing of
// the capture matched -x (both transports: the packet transport knows it from its pre-scan, before
// it needs intercept), 4 when the target refused the sessions. Each non-zero code comes with one
// line `tcpcopy: error: …`. Also the pure outcome rules (outcome.ts) on reports made here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/exit-codes.js';
import { packetOutcome, socketOutcome } from '../../src/replay/outcome.js';
import type { ReplayReport } from '../../src/replay/socket/index.js';
import type { OfflineReport } from '../../src/stats/offline-report.js';
import { clientSession, writeCapture } from './synth.js';
import { countingHttpServer, runAsync } from '../support/processes.js';
import type { Ran } from '../support/processes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const T0 = 1_700_000_000_000_000_000n;
const SESSIONS = 3;

/** Runs bin/tcpcopy to its exit, asynchronously (the HTTP server lives in this process). */
function tcpcopy(args: string[]): Promise<Ran> {
  return runAsync(process.execPath, [`${root}bin/tcpcopy`, ...args]);
}

/** A port on loopback where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function oneError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] ?? '', /^tcpcopy: error: /);
  assert.match(lines[0] ?? '', pattern);
}

void describe('offline replay exit codes through bin/tcpcopy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exit-codes-'));
  const file = join(dir, 'three.pcapng');
  const ready = writeCapture(
    file,
    Array.from({ length: SESSIONS }, (_, i) =>
      clientSession({
        client: '10.9.9.1',
        clientPort: 41000 + i,
        server: '10.9.9.2',
        serverPort: 80,
        startNs: T0 + BigInt(i) * 5_000_000n,
      }),
    ).flat(),
  );

  void test('0: every session replayed over sockets', async () => {
    await ready;
    const srv = await countingHttpServer();
    try {
      const r = await tcpcopy([
        '--offline',
        file,
        '--transport',
        'socket',
        '--top-speed',
        '-x',
        `80-127.0.0.1:${srv.port}`,
      ]);
      assert.equal(r.code, ExitCode.OK, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(srv.requests(), SESSIONS);
    } finally {
      await srv.close();
    }
  });

  void test('2: a --report-json path in a missing directory is refused before anything is sent', async () => {
    await ready;
    const srv = await countingHttpServer();
    try {
      const json = join(dir, 'no-such-dir', 'r.json');
      for (const transport of ['socket', 'packet']) {
        const packetOnly = transport === 'packet' ? ['--secret', 's', '-s', '127.0.0.1'] : [];
        const r = await tcpcopy([
          '--offline',
          file,
          '--transport',
          transport,
          ...packetOnly,
          '-x',
          `80-127.0.0.1:${srv.port}`,
          '--report-json',
          json,
        ]);
        assert.equal(r.code, ExitCode.BAD_INPUT, `${transport}: ${r.stderr}`);
        oneError(r.stderr, /--report-json .*no-such-dir\/r\.json: cannot be written \(ENOENT\)/);
        assert.equal(r.stdout, '', 'no report: nothing ran');
      }
      assert.equal(srv.connections(), 0, 'the target saw no connection');
      assert.ok(!existsSync(join(dir, 'no-such-dir')));
    } finally {
      await srv.close();
    }
  });

  void test('3: nothing of the capture matches -x (socket transport; packet transport from its pre-scan, no intercept needed)', async () => {
    await ready;
    const srv = await countingHttpServer();
    try {
      const s = await tcpcopy(['--offline', file, '--transport', 'socket', '-x', `81-127.0.0.1:${srv.port}`]);
      assert.equal(s.code, ExitCode.NOTHING_MATCHED, s.stderr);
      oneError(
        s.stderr,
        new RegExp(`nothing to replay: ${SESSIONS * 4} packets read from .*three\\.pcapng, 0 of the -x ports`),
      );
      // The packet transport, with an intercept address where nothing listens: it never gets that far.
      const p = await tcpcopy([
        '--offline',
        file,
        '--secret',
        's',
        '-s',
        '127.0.0.1',
        '-x',
        `81-127.0.0.1:${srv.port}`,
        '--report-json',
        join(dir, 'nothing.json'),
      ]);
      assert.equal(p.code, ExitCode.NOTHING_MATCHED, p.stderr);
      // Both transports print their report, all zeros replayed; the packet transport's JSON too.
      assert.match(s.stdout, /sessions/);
      assert.match(p.stdout, new RegExp(`^offline replay of .*three\\.pcapng \\(pcapng, 1 loop, packet transport\\)`));
      assert.match(p.stdout, new RegExp(`packets: +${SESSIONS * 4} read, 0 replayed, 0 sent to the target`));
      const json = JSON.parse(readFileSync(join(dir, 'nothing.json'), 'utf8')) as {
        packets: { inFile: number; replayed: number };
        sessions: { replayed: number };
      };
      assert.deepEqual([json.packets.inFile, json.packets.replayed, json.sessions.replayed], [SESSIONS * 4, 0, 0]);
      oneError(
        p.stderr,
        new RegExp(
          `nothing to replay: none of the ${SESSIONS * 4} packets of .*three\\.pcapng is a client packet of the -x ports \\(${SESSIONS * 4} TCP of other ports`,
        ),
      );
      assert.equal(srv.connections(), 0);
    } finally {
      await srv.close();
    }
  });

  void test('4: the target refuses every session (socket transport)', async () => {
    await ready;
    const port = await closedPort();
    const r = await tcpcopy(['--offline', file, '--transport', 'socket', '--top-speed', '-x', `80-127.0.0.1:${port}`]);
    assert.equal(r.code, ExitCode.TARGET_FAILED, r.stderr);
    oneError(r.stderr, new RegExp(`the target failed ${SESSIONS} of ${SESSIONS} sessions \\(${SESSIONS} refused\\)`));
    assert.match(r.stdout, /failures: 3 refused/, 'the report is printed too');
  });

  void test('cleanup', () => {
    rmSync(dir, { recursive: true, force: true });
  });
});

function packetReport(over: {
  inFile?: number;
  replayed?: number;
  noSynAck?: number;
  closed?: Record<string, number>;
}): OfflineReport {
  return {
    file: 'f.pcap',
    format: 'pcap',
    transport: 'packet',
    loops: 1,
    durationMs: 10,
    packets: { inFile: 40, read: 40, replayed: 30, sent: 30, failedSends: 0 },
    bytes: { read: 4000, sentContentPackets: 10 },
    sessions: {
      inFile: over.inFile ?? 10,
      replayed: over.replayed ?? 10,
      withoutSyn: 0,
      joinedWithoutSyn: 0,
      skipped: { refusedNoSyn: 0, sampledOut: 0, noSynAck: over.noSynAck ?? 0, unfinished: 0 },
      closed: over.closed ?? { finished: 10 },
    },
    input: {
      truncatedPackets: 0,
      nonTcpPackets: 0,
      nonIpPackets: 0,
      fragments: 0,
      unknownLinkTypes: {},
      unknownLinkTypePackets: 0,
      otherTcpPackets: 0,
      replyPackets: 0,
    },
    rates: { packetsPerS: 0, sessionsPerS: 0, mbitPerS: 0 },
    rateCap: null,
  };
}

void describe('outcome rules (pure)', () => {
  void test('packet transport', () => {
    assert.deepEqual(packetOutcome(packetReport({})), { code: ExitCode.OK, reason: null });
    assert.equal(packetOutcome(packetReport({ inFile: 0, replayed: 0, closed: {} })).code, ExitCode.NOTHING_MATCHED);
    const reset = packetOutcome(packetReport({ closed: { finished: 8, targetReset: 2 } }));
    assert.deepEqual(reset, {
      code: ExitCode.TARGET_FAILED,
      reason: 'the target failed sessions: of 10 sessions, 2 reset',
    });
    // As buildOfflineReport makes it: the unanswered SYNs are the sessions closed 'handshakeTimeout'.
    const mixed = packetOutcome(
      packetReport({ replayed: 7, noSynAck: 3, closed: { finished: 6, handshakeTimeout: 3, targetReset: 1 } }),
    );
    assert.equal(mixed.reason, 'the target failed sessions: of 10 sessions, 3 never answered, 1 reset');
    // Sessions that never started for reasons of the input (not the target's) are not its failure.
    assert.equal(packetOutcome(packetReport({ inFile: 4, replayed: 3, closed: { finished: 3 } })).code, ExitCode.OK);
    assert.equal(packetOutcome(packetReport({ inFile: 2, replayed: 0, closed: {} })).code, ExitCode.NOTHING_MATCHED);
    // A client reset or a timeout after the exchange is the capture's story, not a target failure.
    assert.equal(
      packetOutcome(packetReport({ closed: { finished: 5, clientReset: 4, keepaliveTimeout: 1 } })).code,
      ExitCode.OK,
    );
  });

  void test('socket transport', () => {
    const base: ReplayReport = {
      format: 'pcapng',
      mysql: null,
      compare: null,
      mysqlFigures: null,
      capture: {
        read: 12,
        bytes: 1200,
        undecodable: 0,
        nonTcp: 0,
        truncated: 0,
        otherPorts: 0,
        packets: 12,
        clientPackets: 9,
        serverPackets: 3,
        retransmitted: 0,
        overlapping: 0,
        outOfOrder: 0,
        gapBytes: 0,
        sessions: 3,
        joined: 0,
        noData: 0,
        afterClose: 0,
        noSession: 0,
      },
      sessionsTotal: 3,
      skipped: { noData: 0, sampledOut: 0, aborted: 0 },
      samplePercent: 100,
      copies: 1,
      replaysTotal: 3,
      replay: {
        sessionsStarted: 3,
        sessionsDone: 3,
        sessionsOpen: 0,
        requestsSent: 3,
        bytesSent: 300,
        responseBytes: 30,
        elapsedMs: 5,
        sessionsOk: 3,
        sessionsFailed: 0,
        sessionsConnected: 3,
        turnsSent: 3,
        responsesTruncated: 0,
        completedByLength: 3,
        completedByQuiet: 0,
        noReply: 0,
        failures: { connectRefused: 0, reset: 0, timeout: 0, targetClosed: 0, other: 0 },
        aborted: 0,
        mysqlSkipped: 0,
        rateCap: null,
      },
      durationMs: 5,
    };
    assert.deepEqual(socketOutcome(base, 'f'), { code: ExitCode.OK, reason: null });
    const failed = socketOutcome(
      {
        ...base,
        replay: {
          ...base.replay,
          sessionsOk: 1,
          sessionsFailed: 2,
          failures: { ...base.replay.failures, reset: 1, timeout: 1 },
        },
      },
      'f',
    );
    assert.deepEqual(failed, {
      code: ExitCode.TARGET_FAILED,
      reason: 'the target failed 2 of 3 sessions (1 reset, 1 timed out)',
    });
    assert.equal(socketOutcome({ ...base, sessionsTotal: 0 }, 'f').code, ExitCode.NOTHING_MATCHED);
    // -n 3: the failures are counted against every replay, copies included.
    assert.deepEqual(
      socketOutcome(
        {
          ...base,
          copies: 3,
          replaysTotal: 9,
          replay: { ...base.replay, sessionsFailed: 2, failures: { ...base.replay.failures, timeout: 2 } },
        },
        'f',
      ),
      { code: ExitCode.TARGET_FAILED, reason: 'the target failed 2 of 9 session replays (2 timed out)' },
    );
    // -r leaving out every session: nothing was replayed.
    assert.deepEqual(
      socketOutcome({ ...base, samplePercent: 1, skipped: { ...base.skipped, sampledOut: 3 }, replaysTotal: 0 }, 'f'),
      { code: ExitCode.NOTHING_MATCHED, reason: 'nothing replayed: -r 1 left out all 3 sessions of f' },
    );
  });
});

void describe("--responses FILE (socket transport): the target's responses as JSON lines", () => {
  void test('one turn record per request with the HTTP status line, bytes and timings; refused with the packet transport; a bad path refused before any work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'responses-'));
    const srv = await countingHttpServer();
    try {
      const file = join(dir, 'two.pcapng');
      await writeCapture(
        file,
        [0, 1].flatMap((i) =>
          clientSession({
            client: '10.9.9.1',
            clientPort: 42000 + i,
            server: '10.9.9.2',
            serverPort: 80,
            startNs: T0 + BigInt(i) * 1_000_000n,
          }),
        ),
      );
      const log = join(dir, 'responses.jsonl');
      const r = await tcpcopy([
        '--offline',
        file,
        '--transport',
        'socket',
        '--top-speed',
        '-x',
        `80-127.0.0.1:${srv.port}`,
        '--responses',
        log,
      ]);
      assert.equal(r.code, ExitCode.OK, r.stderr);
      const { readFileSync } = await import('node:fs');
      const records = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(records[0]?.['type'], 'header');
      const turns = records.filter((x) => x['type'] === 'turn');
      assert.equal(turns.length, 2);
      for (const t of turns) {
        assert.equal(t['statusLine'], 'HTTP/1.1 200 OK');
        assert.equal(t['turn'], 0);
        assert.ok((t['responseBytes'] as number) > 0);
        assert.equal(typeof t['sentMs'], 'number');
        assert.equal(typeof t['completeMs'], 'number');
      }
      assert.deepEqual(
        records.filter((x) => x['type'] === 'session').map((x) => x['outcome']),
        ['ok', 'ok'],
      );
      const packet = await tcpcopy([
        '--offline',
        file,
        '--secret',
        's',
        '-s',
        '127.0.0.1',
        '-x',
        `80-127.0.0.1:${srv.port}`,
        '--responses',
        log,
      ]);
      assert.equal(packet.code, ExitCode.BAD_INPUT);
      oneError(
        packet.stderr,
        /^tcpcopy: error: --responses does not apply here: the packet transport sees only the headers/,
      );
      const before = srv.connections();
      const bad = await tcpcopy([
        '--offline',
        file,
        '--transport',
        'socket',
        '-x',
        `80-127.0.0.1:${srv.port}`,
        '--responses',
        join(dir, 'nope', 'r.jsonl'),
      ]);
      assert.equal(bad.code, ExitCode.BAD_INPUT);
      oneError(bad.stderr, /--responses .*nope\/r\.jsonl: cannot be written \(ENOENT\)/);
      assert.equal(srv.connections(), before, 'nothing was replayed');
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe('SIGINT during an offline replay over sockets', () => {
  void test('the sessions not started are skipped as aborted, the report is printed, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigint-'));
    const srv = await countingHttpServer();
    try {
      // Ten sessions one second apart at the capture's own pace: SIGINT after the first ones.
      const file = join(dir, 'slow.pcapng');
      await writeCapture(
        file,
        Array.from({ length: 10 }, (_, i) =>
          clientSession({
            client: '10.9.9.1',
            clientPort: 43000 + i,
            server: '10.9.9.2',
            serverPort: 80,
            startNs: T0 + BigInt(i) * 1_000_000_000n,
          }),
        ).flat(),
      );
      let timer: NodeJS.Timeout | undefined;
      const r = await runAsync(
        process.execPath,
        [`${root}bin/tcpcopy`, '--offline', file, '--transport', 'socket', '-x', `80-127.0.0.1:${srv.port}`],
        {
          onStart: (child) => {
            timer = setInterval(() => {
              if (srv.requests() >= 2) {
                clearInterval(timer);
                child.kill('SIGINT');
              }
            }, 20);
          },
        },
      );
      clearInterval(timer);
      assert.equal(r.code, ExitCode.OK, r.stderr);
      const m = /skipped 0 without data, (\d+) aborted; (\d+) ok, 0 failed/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.ok(Number(m[1]) >= 5, `most sessions were not started (${m[1]} aborted)`);
      assert.equal(Number(m[1]) + Number(m[2]), 10);
      assert.equal(srv.requests(), Number(m[2]), 'every session started was replayed');
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
