// --rps over the socket transport, end to end on loopback: bin/tcpcopy replays a synthetic capture of
// N one-request sessions `--top-speed --rps 200` to a real HTTP server in this process. Every request
// arrives; their arrivals span at least (N − 1) / 200 s (less a few ms of loopback jitter) and at
// most that plus a bounded slack; no window of 100 ms holds more than the cap allows (without the
// cap, all N arrive within a few tens of ms, so this can fail). The send times of the response log
// (--responses) keep the cap's timeline: request k goes no earlier than (k − 1) / 200 s after request
// 1, less the pacer's tolerance for a late timer (request 0 is left out: its time is taken after
// the process's first, slower, write). The report states the cap and the achieved rate, at most the cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readResponseLog } from '../../src/replay/socket/index.js';
import { TOLERANCE_MS } from '../../src/replay/pace.js';
import type { ReplayReportJson } from '../../src/replay/report-json.js';
import { clientSession, writeCapture } from './synth.js';
import { runAsync } from '../support/processes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const T0 = 1_700_000_000_000_000_000n;
const N = 60;
const RPS = 200;
/** Arrivals are timed at the server: the first may lag its send by this much more than the last. */
const JITTER_MS = 3;
/** Above the cap's span: process start is not in it (arrivals only), so this covers scheduling delays. */
const SLACK_MS = 1500;

test(`--transport socket --top-speed --rps ${RPS}: ${N} requests, all delivered, no faster than the cap`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rate-cap-'));
  const arrivals: number[] = [];
  const server = createServer((_req, res) => {
    arrivals.push(performance.now());
    res.end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    // The server's first request is slower (its parser warms up): taken here, not counted.
    await new Promise<void>((resolve, reject) => {
      get(`http://127.0.0.1:${port}/warm-up`, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    arrivals.length = 0;
    const file = join(dir, 'sessions.pcapng');
    // N sessions 1 ms apart in the capture: at top speed they would all go at once.
    await writeCapture(
      file,
      Array.from({ length: N }, (_, i) =>
        clientSession({
          client: '10.9.9.1',
          clientPort: 45000 + i,
          server: '10.9.9.2',
          serverPort: 80,
          startNs: T0 + BigInt(i) * 1_000_000n,
          path: `/r${i}`,
        }),
      ).flat(),
    );
    const json = join(dir, 'report.json');
    const log = join(dir, 'responses.jsonl');
    const r = await runAsync(
      process.execPath,
      [
        `${root}bin/tcpcopy`,
        '--offline',
        file,
        '--transport',
        'socket',
        '--top-speed',
        '--rps',
        String(RPS),
        '-x',
        `80-127.0.0.1:${port}`,
        '--report-json',
        json,
        '--responses',
        log,
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(arrivals.length, N, 'every request arrived');
    const span = arrivals[N - 1]! - arrivals[0]!;
    const minSpan = ((N - 1) * 1000) / RPS;
    assert.ok(
      span >= minSpan - JITTER_MS,
      `${N} requests arrived over ${span.toFixed(1)} ms, the cap needs ${minSpan}`,
    );
    assert.ok(span <= minSpan + SLACK_MS, `${N} requests arrived over ${span.toFixed(1)} ms, over ${minSpan} + slack`);
    // Any 100 ms holds at most 100 / 5 + 1 arrivals, plus two for a late timer and loopback jitter.
    let most = 0;
    for (let i = 0, j = 0; i < N; i++) {
      while (arrivals[i]! - arrivals[j]! >= 100) j++;
      most = Math.max(most, i - j + 1);
    }
    assert.ok(most <= (100 * RPS) / 1000 + 3, `${most} requests arrived within 100 ms`);
    const m = /rate cap: --rps 200, achieved ([\d.]+) requests\/s/.exec(r.stdout);
    assert.ok(m !== null, r.stdout);
    const achieved = Number(m[1]);
    assert.ok(achieved <= RPS && achieved > RPS / 2, `achieved ${achieved} requests/s`);
    // Send times (µs resolution, taken after the write): never ahead of the cap's timeline.
    const sent: number[] = [];
    for await (const rec of readResponseLog(log)) if (rec.type === 'turn') sent.push(rec.sentMs);
    sent.sort((a, b) => a - b);
    assert.equal(sent.length, N);
    for (let k = 2; k < N; k++)
      assert.ok(
        sent[k]! - sent[1]! >= ((k - 1) * 1000) / RPS - TOLERANCE_MS - 0.5,
        `request ${k} sent ${sent[k]! - sent[1]!} ms after request 1`,
      );
    t.diagnostic(`span ${span.toFixed(1)} ms (cap: >= ${minSpan}), at most ${most} in 100 ms, achieved ${achieved}/s`);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as ReplayReportJson;
    assert.equal(rep.requests?.sent, N);
    assert.equal(rep.sessions.ok, N);
    assert.equal(rep.rateCap?.rps?.capPerS, RPS);
    assert.equal(rep.rateCap?.pps, null);
    // The text and the JSON both show the achieved rate with one decimal.
    assert.ok(Math.abs((rep.rateCap?.rps?.achievedPerS ?? 0) - achieved) <= 0.1, JSON.stringify(rep.rateCap));
  } finally {
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
    rmSync(dir, { recursive: true, force: true });
  }
});
