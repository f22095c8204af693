// The socket transport end to end on loopback: a real exchange is captured on `lo` (LiveCapture, as root)
// while curl, `ab` (short and keep-alive) and redis-benchmark (-P 1 and -P 8) run against an
// "original" nginx and redis-server on a loopback address of its own, and written with our PcapngWriter. The file is
// then
// replayed with replayCaptureOverSockets against fresh servers: the target nginx logs exactly as
// many requests as the original, the target redis has exactly the same per-command call counts and
// the same DEBUG DIGEST; every logged response has the captured reply's length. Then the same file
// is replayed as `nobody` (no capabilities) against two more fresh servers, with the same results.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, chmodSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveCapture } from '../../src/capture/index.js';
import { PcapngWriter } from '../../src/pcap/index.js';
import { replayCaptureOverSockets, readResponseLog, formatReplayReport } from '../../src/replay/socket/index.js';
import type { ReplayReport, TurnRecord } from '../../src/replay/socket/index.js';
import { parseCommandCalls } from '../lab/redis-load.js';
import { runAsNobody } from '../support/unprivileged.js';
import { LOOPBACK_ADDR, freePort, startLoopbackNginx, startLoopbackRedis, runLoad } from './loopback.js';
import type { LoopbackRedis, LoopbackNginx } from './loopback.js';

const isRoot = process.getuid?.() === 0;
const CURL_URLS = 10;
const AB_SHORT = 300;
const AB_KEEPALIVE = 500;
const HTTP_REQUESTS = CURL_URLS + AB_SHORT + AB_KEEPALIVE;
const REDIS_REQUESTS = 2000;
const REDIS_TESTS = ['set', 'incr', 'lpush', 'hset'] as const;
/** Commands our own checks send (redis-cli after the capture), left out of the comparison. */
const OWN_COMMANDS = new Set(['info', 'debug', 'eval', 'command', 'hello', 'client']);

let dir = '';
let capturePath = '';
let originalHttp = 0;
let originalCalls = new Map<string, number>();
let originalDigest = '';
let httpPort = 0;
let redisPort = 0;
let captureDropped = -1;

async function debugDigest(r: LoopbackRedis): Promise<string> {
  const d = await r.cli(['DEBUG', 'DIGEST']);
  assert.match(d, /^[0-9a-f]{40}$/, `DEBUG DIGEST answered ${JSON.stringify(d)}`);
  return d;
}

async function replayedCalls(r: LoopbackRedis): Promise<Map<string, number>> {
  const all = parseCommandCalls(await r.cli(['INFO', 'commandstats']));
  for (const k of [...all.keys()]) if (OWN_COMMANDS.has(k.split('|')[0]!)) all.delete(k);
  return all;
}

/** Polls the nginx access log until it has `want` lines or 3 s pass (nginx logs after replying). */
async function settledLines(n: LoopbackNginx, want: number): Promise<number> {
  const deadline = Date.now() + 3000;
  let got = n.logLines().length;
  while (got < want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    got = n.logLines().length;
  }
  return got;
}

before(async () => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'replay-e2e-'));
  chmodSync(dir, 0o755);
  capturePath = join(dir, 'loopback.pcapng');
  httpPort = await freePort();
  redisPort = await freePort();
  const nginx = await startLoopbackNginx(httpPort);
  const redis = await startLoopbackRedis(redisPort);
  try {
    const cap = LiveCapture.open({
      device: 'lo',
      filter: `host ${LOOPBACK_ADDR} and (tcp port ${httpPort} or tcp port ${redisPort})`,
    });
    const out = createWriteStream(capturePath, { mode: 0o644 });
    const writer = new PcapngWriter(out, { interfaces: [{ linkType: cap.linkType, snaplen: 65535, name: 'lo' }] });
    cap.on('batch', (b) => {
      for (let i = 0; i < b.count; i++) writer.write({ data: b.data(i), tsNs: b.tsNs(i), origLen: b.origLen(i) });
    });
    try {
      const base = `http://${LOOPBACK_ADDR}:${httpPort}`;
      const urls = Array.from({ length: CURL_URLS }, (_, i) => `${base}/${i % 2 === 0 ? '' : '1k'}`);
      // ab's -t implies -n 50000: it must come before -n.
      await runLoad(
        'curl',
        ['-s', '--max-time', '10', '-o', '/dev/null', ...urls.flatMap((u) => [u, '-o', '/dev/null'])],
        15_000,
      );
      await runLoad('ab', ['-q', '-t', '20', '-c', '5', '-n', String(AB_SHORT), `${base}/`], 25_000);
      await runLoad('ab', ['-q', '-k', '-t', '20', '-c', '5', '-n', String(AB_KEEPALIVE), `${base}/1k`], 25_000);
      for (const pipeline of [1, 8]) {
        await runLoad(
          'redis-benchmark',
          [
            '-h',
            LOOPBACK_ADDR,
            '-p',
            String(redisPort),
            '-t',
            REDIS_TESTS.join(','),
            '-n',
            String(REDIS_REQUESTS),
            '-c',
            '10',
            '-P',
            String(pipeline),
            '-r',
            '100',
            '-q',
          ],
          30_000,
        );
      }
      await new Promise((r) => setTimeout(r, 100)); // the last FINs and ACKs
    } finally {
      captureDropped = cap.stats().dropped;
      cap.close();
      await writer.close();
    }
    originalHttp = await settledLines(nginx, HTTP_REQUESTS);
    originalCalls = await replayedCalls(redis);
    originalDigest = await debugDigest(redis);
  } finally {
    await nginx.stop();
    await redis.stop();
  }
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Checks a report and the fresh servers after a replay of the whole capture (HTTP and redis). */
async function checkReplay(
  http: ReplayReport,
  redisReport: ReplayReport,
  nginx: LoopbackNginx,
  redis: LoopbackRedis,
  label: string,
): Promise<void> {
  for (const [name, r] of [
    ['http', http],
    ['redis', redisReport],
  ] as const) {
    assert.equal(r.replay.sessionsFailed, 0, `${label} ${name}: no failed session\n${formatReplayReport(r)}`);
    assert.equal(r.replay.sessionsOk, r.sessionsTotal, `${label} ${name}: every session replayed`);
    assert.equal(r.capture.gapBytes, 0, `${label} ${name}: no capture hole`);
  }
  assert.equal(http.replay.requestsSent, HTTP_REQUESTS, `${label}: one turn per HTTP request`);
  assert.equal(http.sessionsTotal, 1 + AB_SHORT + 5, `${label}: curl's connection, ab's short ones, ab -k's five`);
  assert.equal(await settledLines(nginx, HTTP_REQUESTS), originalHttp, `${label}: target nginx requests`);
  const calls = await replayedCalls(redis);
  assert.deepEqual(Object.fromEntries(calls), Object.fromEntries(originalCalls), `${label}: per-command calls`);
  assert.equal(await debugDigest(redis), originalDigest, `${label}: DEBUG DIGEST`);
}

test('the loopback capture holds the whole original exchange', { skip: !isRoot && 'needs root' }, () => {
  assert.equal(captureDropped, 0);
  assert.equal(originalHttp, HTTP_REQUESTS);
  for (const c of REDIS_TESTS) assert.equal(originalCalls.get(c), 2 * REDIS_REQUESTS, `original ${c} calls`);
});

test(
  'socket replay of the capture to fresh loopback servers: equal request counts and DEBUG DIGEST',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const nginx = await startLoopbackNginx(await freePort());
    const redis = await startLoopbackRedis(await freePort());
    try {
      const logPath = join(dir, 'http-responses.jsonl');
      let progressCalls = 0;
      const http = await replayCaptureOverSockets({
        file: capturePath,
        ports: [httpPort],
        target: { host: LOOPBACK_ADDR, port: nginx.port },
        topSpeed: true,
        responseLog: logPath,
        onProgress: () => {
          progressCalls++;
        },
      });
      const redisReport = await replayCaptureOverSockets({
        file: capturePath,
        ports: [redisPort],
        target: { host: LOOPBACK_ADDR, port: redis.port },
        accelerate: 1,
      });
      t.diagnostic(`http (top speed):\n${formatReplayReport(http)}`);
      t.diagnostic(`redis (accelerate 1):\n${formatReplayReport(redisReport)}`);
      await checkReplay(http, redisReport, nginx, redis, 'root');
      assert.ok(progressCalls >= 1);

      // The response log: one turn record per request, each an HTTP 200 of the captured reply's length.
      const turns: TurnRecord[] = [];
      let sessions = 0;
      for await (const r of readResponseLog(logPath)) {
        if (r.type === 'turn') turns.push(r);
        else if (r.type === 'session') sessions++;
      }
      assert.equal(turns.length, HTTP_REQUESTS);
      assert.equal(sessions, http.sessionsTotal);
      for (const tr of turns) {
        assert.match(tr.response.subarray(0, 12).toString(), /^HTTP\/1\.[01] 200$/);
        assert.equal(
          tr.responseBytes,
          tr.capturedReplyBytes,
          `session ${tr.session} turn ${tr.turn}: reply length as captured`,
        );
        assert.equal(tr.completion, 'length');
      }
    } finally {
      await nginx.stop();
      await redis.stop();
    }
  },
);

test(
  'as nobody: the same socket replay works end to end without privileges',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const nginx = await startLoopbackNginx(await freePort());
    const redis = await startLoopbackRedis(await freePort());
    try {
      const script = `
      import { replayCaptureOverSockets } from '\${PKG}/dist/src/replay/socket/index.js';
      const common = { file: ${JSON.stringify(capturePath)}, topSpeed: true };
      const http = await replayCaptureOverSockets({ ...common, ports: [${httpPort}], target: { host: '${LOOPBACK_ADDR}', port: ${nginx.port} } });
      const redis = await replayCaptureOverSockets({ ...common, ports: [${redisPort}], target: { host: '${LOOPBACK_ADDR}', port: ${redis.port} } });
      console.log(JSON.stringify({ uid: process.getuid(), http, redis }));
    `;
      const r = runAsNobody(script);
      assert.equal(r.status, 0, `nobody replay failed: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as { uid: number; http: ReplayReport; redis: ReplayReport };
      assert.equal(out.uid, 65534);
      t.diagnostic(
        `nobody: http ${out.http.replay.requestsSent} requests, redis ${out.redis.replay.requestsSent} turns, ${out.http.durationMs.toFixed(0)} + ${out.redis.durationMs.toFixed(0)} ms`,
      );
      await checkReplay(out.http, out.redis, nginx, redis, 'nobody');
    } finally {
      await nginx.stop();
      await redis.stop();
    }
  },
);
