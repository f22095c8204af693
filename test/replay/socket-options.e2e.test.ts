// -n, -r and -t with the socket transport, through bin/tcpcopy on loopback with real servers:
// -n 3 replays every captured session three times over its own connections (the server gets exactly
// 3× the captured requests, each from its own source port); -r 30 replays the sessions the packet
// transport would copy (the same rule on client address and port: 30 % ± 2 % of 1,000 sessions, the
// same ones in a second run); -t 1 fails the sessions of a target that never answers as timeouts
// after about a second instead of the default ten. -g 5 ramps the share over 5 s of capture time: the
// sessions replayed are exactly those whose bucket is below the share at their start.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/exit-codes.js';
import { isSessionSampled, sampleBucket } from '../../src/tcpcopy/rewrite.js';
import type { ReplayReportJson } from '../../src/replay/report-json.js';
import { clientSession, writeCapture } from '../offline/synth.js';
import { runAsync } from '../support/processes.js';
import type { Ran } from '../support/processes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const T0 = 1_700_000_000_000_000_000n;

function tcpcopy(args: string[]): Promise<Ran> {
  return runAsync(process.execPath, [`${root}bin/tcpcopy`, ...args]);
}

interface PathServer {
  port: number;
  /** Request paths in arrival order. */
  paths: string[];
  /** Client source ports of the connections. */
  sourcePorts: Set<number>;
  close(): Promise<void>;
}

/** An HTTP server on loopback that records every request's path and every connection's source port. */
async function pathServer(): Promise<PathServer> {
  const paths: string[] = [];
  const sourcePorts = new Set<number>();
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.end('ok\n');
  });
  server.on('connection', (s: Socket) => sourcePorts.add(s.remotePort ?? 0));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    paths,
    sourcePorts,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Client `10.9.(i % 7).(1 + i % 5)`, port 20000 + 37·i: many addresses and ports, as real clients have. */
function spec(i: number): { client: string; clientPort: number } {
  return { client: `10.9.${i % 7}.${1 + (i % 5)}`, clientPort: 20_000 + 37 * i };
}

void describe('--transport socket with -n, -r and -t (bin/tcpcopy, loopback)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'socket-options-'));

  test('-n 3: the server gets exactly 3× the captured requests, each copy on its own connection', async () => {
    const SESSIONS = 5;
    const file = join(dir, 'five.pcapng');
    await writeCapture(
      file,
      Array.from({ length: SESSIONS }, (_, i) =>
        clientSession({
          ...spec(i),
          server: '10.9.9.2',
          serverPort: 80,
          startNs: T0 + BigInt(i) * 2_000_000n,
          path: `/s${i}`,
        }),
      ).flat(),
    );
    const srv = await pathServer();
    try {
      const r = await tcpcopy([
        '--offline',
        file,
        '--transport',
        'socket',
        '-x',
        `80-127.0.0.1:${srv.port}`,
        '-n',
        '3',
        '--report-json',
        join(dir, 'five.json'),
      ]);
      assert.equal(r.code, ExitCode.OK, r.stderr + r.stdout);
      // The report in the schema the packet transport writes too (src/replay/report-json.ts).
      const rep = JSON.parse(readFileSync(join(dir, 'five.json'), 'utf8')) as ReplayReportJson;
      assert.deepEqual(
        [rep.report, rep.transport, rep.format, rep.copies, rep.samplePercent],
        ['tcpcopy-replay', 'socket', 'pcapng', 3, 100],
      );
      assert.ok(Number.isInteger(rep.durationMs) && rep.durationMs > 0, `durationMs ${rep.durationMs}`);
      assert.deepEqual(
        [rep.sessions.inFile, rep.sessions.replayed, rep.sessions.ok, rep.sessions.failed, rep.requests?.sent],
        [SESSIONS, 3 * SESSIONS, 3 * SESSIONS, 0, 3 * SESSIONS],
      );
      assert.deepEqual(rep.failures, { refused: 0, reset: 0, timeout: 0, targetClosed: 0, other: 0 });
      assert.equal(srv.paths.length, 3 * SESSIONS, srv.paths.join(' '));
      for (let i = 0; i < SESSIONS; i++)
        assert.equal(srv.paths.filter((p) => p === `/s${i}`).length, 3, `/s${i} three times`);
      assert.equal(srv.sourcePorts.size, 3 * SESSIONS, 'every copy from its own source port');
      assert.match(
        r.stdout,
        new RegExp(
          `^sessions: ${SESSIONS} replayable .*; ${SESSIONS} × 3 copies \\(-n 3\\) = 15 replayed: 15 ok, 0 failed$`,
          'm',
        ),
      );
      assert.match(r.stdout, /^sent: 15 requests \(copies included: every session 3×\), /m);
    } finally {
      await srv.close();
    }
  });

  test('-r 30 over 1,000 sessions: 30 % ± 2 % replayed, the same sessions in a second run and as the packet transport picks', async () => {
    const SESSIONS = 1000;
    const file = join(dir, 'thousand.pcapng');
    await writeCapture(
      file,
      Array.from({ length: SESSIONS }, (_, i) =>
        clientSession({
          ...spec(i),
          server: '10.9.9.2',
          serverPort: 80,
          startNs: T0 + BigInt(i) * 100_000n,
          path: `/s${i}`,
        }),
      ).flat(),
    );
    const expected = new Set<string>();
    for (let i = 0; i < SESSIONS; i++) {
      const s = spec(i);
      if (isSessionSampled(s.client, s.clientPort, 30)) expected.add(`/s${i}`);
    }
    const runs: Set<string>[] = [];
    for (let run = 0; run < 2; run++) {
      const srv = await pathServer();
      try {
        const r = await tcpcopy([
          '--offline',
          file,
          '--transport',
          'socket',
          '--top-speed',
          '-x',
          `80-127.0.0.1:${srv.port}`,
          '-r',
          '30',
        ]);
        assert.equal(r.code, ExitCode.OK, r.stderr + r.stdout);
        const got = new Set(srv.paths);
        assert.equal(got.size, srv.paths.length, 'each sampled session replayed once');
        assert.ok(got.size >= 280 && got.size <= 320, `${got.size} of ${SESSIONS} sessions replayed`);
        assert.match(
          r.stdout,
          new RegExp(
            `^sessions: ${SESSIONS} replayable .*, ${SESSIONS - got.size} sampled out \\(-r 30\\), 0 aborted; ${got.size} ok, 0 failed$`,
            'm',
          ),
        );
        runs.push(got);
      } finally {
        await srv.close();
      }
    }
    assert.deepEqual([...runs[1]!].sort(), [...runs[0]!].sort(), 'the second run replays the same sessions');
    assert.deepEqual([...runs[0]!].sort(), [...expected].sort(), "the packet transport's rule picks them");
  });

  test('-g 5 over 1,000 sessions 10 ms apart: each session by the ramp share at its capture time, exactly', async () => {
    const SESSIONS = 1000;
    const file = join(dir, 'ramp.pcapng');
    await writeCapture(
      file,
      Array.from({ length: SESSIONS }, (_, i) =>
        clientSession({
          ...spec(i),
          server: '10.9.9.2',
          serverPort: 80,
          startNs: T0 + BigInt(i) * 10_000_000n,
          path: `/s${i}`,
        }),
      ).flat(),
    );
    const expected = new Set<string>();
    for (let i = 0; i < SESSIONS; i++) {
      const s = spec(i);
      const share = 1 + 99 * Math.min(1, (i * 10) / 5000);
      if (sampleBucket(s.client, s.clientPort) < share) expected.add(`/s${i}`);
    }
    const srv = await pathServer();
    try {
      const r = await tcpcopy([
        '--offline',
        file,
        '--transport',
        'socket',
        '--top-speed',
        '-x',
        `80-127.0.0.1:${srv.port}`,
        '-g',
        '5',
      ]);
      assert.equal(r.code, ExitCode.OK, r.stderr + r.stdout);
      assert.deepEqual([...new Set(srv.paths)].sort(), [...expected].sort());
      const second = [...expected].filter((p) => Number(p.slice(2)) >= 500).length;
      assert.equal(second, 500, 'every session after the ramp');
      assert.ok(expected.size < 800, `${expected.size}: the ramp left some out`);
    } finally {
      await srv.close();
    }
  });

  test('-t 1: the sessions of a target that never answers fail as timeouts after about one second', async () => {
    // A target that accepts and reads but never writes: each replayed session waits for its captured reply.
    const held: Socket[] = [];
    const silent = createTcpServer((s) => {
      held.push(s);
      s.resume();
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const t0 = performance.now();
      const r = await tcpcopy([
        '--offline',
        join(root, 'demo', 'demo.pcapng'),
        '--transport',
        'socket',
        '--top-speed',
        '-x',
        `80-127.0.0.1:${port}`,
        '-t',
        '1',
      ]);
      const secs = (performance.now() - t0) / 1000;
      assert.equal(r.code, ExitCode.TARGET_FAILED, r.stderr + r.stdout);
      const m = /^sessions: (\d+) replayable .*; 0 ok, (\d+) failed$/m.exec(r.stdout);
      assert.ok(m !== null, r.stdout);
      assert.ok(Number(m[1]) > 0);
      assert.equal(m[2], m[1], 'every session failed');
      assert.match(
        r.stdout,
        new RegExp(`^failures: 0 refused, 0 reset, ${m[1]} timeout, 0 closed by target, 0 other$`, 'm'),
      );
      // One second of waiting for the first reply (not the default ten), plus the process's start.
      assert.ok(secs >= 1 && secs < 5, `${secs.toFixed(2)} s`);
      const d = /^duration (\d+\.\d+) s/m.exec(r.stdout);
      assert.ok(d !== null && Number(d[1]) >= 0.95 && Number(d[1]) < 2.5, `replay took ${d?.[1]} s`);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});
