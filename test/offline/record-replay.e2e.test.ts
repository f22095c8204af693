// Offline replay: record → replay. In a 2-host lab, `tcpcopy --record F.pcapng -x 80,6379 -i eth0`
// runs on onl while cli loads its nginx (:80, `ab -k -c20 -n5000`) and redis-server (:6379,
// redis-benchmark SET/INCR/LPUSH/HSET, 20 clients, -n 5000); SIGINT ends the recording. F is then
// replayed with `tcpcopy --offline F --transport socket --top-speed` to a fresh nginx (as root, through
// bin/tcpcopy) and a fresh redis-server (as `nobody`, no capabilities) on a loopback address of this
// test's own. Checked: every replayed session ends well, the target nginx logs as many requests as the
// online one did during the recording (5000), the target redis has the same per-command calls as the
// online one had for the recorded traffic, and the same DEBUG DIGEST. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Lab, commandCalls, redisBenchmark, watchProcess } from '../lab/index.js';
import type { ProcessWatch } from '../lab/index.js';
import { parseCommandCalls } from '../lab/redis-load.js';
import type { ReplayReportJson } from '../../src/replay/report-json.js';
import { packageRoot } from '../../src/paths.js';
import { unprivilegedCopy } from '../support/unprivileged.js';
import { LOOPBACK_ADDR, freePort, startLoopbackNginx, startLoopbackRedis } from '../replay/loopback.js';
import type { LoopbackNginx, LoopbackRedis } from '../replay/loopback.js';

const isRoot = process.getuid?.() === 0;
const AB_REQUESTS = 5000;
const REDIS_REQUESTS = 5000;
const COMMANDS = ['set', 'incr', 'lpush', 'hset'] as const;
/** Commands our own checks send (redis-cli), left out of the comparison. */
const OWN_COMMANDS = new Set(['info', 'debug', 'eval', 'command', 'hello', 'client']);
const runFile = promisify(execFile);

/**
 * Runs `node ...args` as uid/gid 65534 without capabilities, in a world-readable copy of the built package with its
 * runtime dependencies and bin/.
 */
function runCliAsNobody(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const copy = unprivilegedCopy({ cli: true });
  try {
    execFileSync('chmod', ['-R', 'a+rX', copy.root]);
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, ...args],
      { encoding: 'utf8', cwd: copy.root, timeout: 60_000 },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    copy.cleanup();
  }
}

function withoutOwn(calls: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of calls) if (!OWN_COMMANDS.has(k.split('|')[0]!)) out.set(k, v);
  return out;
}

function minus(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
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

async function stopRecorder(child: ChildProcess, watch: ProcessWatch): Promise<number | null> {
  child.kill('SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
  const code = await Promise.race([watch.exited, timeout]);
  assert.notEqual(code, 'timeout', `recorder did not exit within 15 s after SIGINT:\n${watch.text()}`);
  return code as number | null;
}

function checkReport(r: ReplayReportJson, label: string): void {
  const replayable = r.sessions.inFile - (r.sessions.skipped.noData ?? 0);
  assert.ok(replayable > 0, `${label}: sessions in the recording`);
  assert.equal(r.sessions.failed, 0, `${label}: no failed session ${JSON.stringify(r.failures)}`);
  assert.equal(r.sessions.ok, replayable, `${label}: every session replayed`);
  assert.equal(r.stream?.gapBytes, 0, `${label}: no hole in the recorded client streams`);
}

test(
  'record with --record, replay with --offline --transport socket: equal requests, calls and DEBUG DIGEST',
  { skip: !isRoot && 'needs root', timeout: 300_000 },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'record-replay-'));
    chmodSync(work, 0o777); // nobody reads the recording and writes its report here
    const file = join(work, 'recorded.pcapng');
    let recordedHttp = 0;
    let recordedCalls: Record<string, number> = {};
    let onlineDigest = '';
    const lab = await Lab.create({ hosts: ['cli', 'onl'], ipv6: false });
    try {
      const cli = lab.host('cli');
      const onl = lab.host('onl');
      await onl.sysctl('net.core.somaxconn', 4096);
      const nginx = await onl.startNginx({ port: 80 });
      const redis = await onl.startRedis({ port: 6379 });
      const dir = await onl.makeTempDir('record');
      const labFile = join(dir, 'F.pcapng');
      const http0 = (await nginx.logLines()).length;
      const calls0 = withoutOwn(await commandCalls(redis));

      const child = onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '--record',
        labFile,
        '-x',
        '80,6379',
        '-i',
        'eth0',
        '--stats-interval',
        '0',
      ]);
      const watch = watchProcess(child);
      let code: number | null = null;
      try {
        await watch.waitFor(/recording on eth0/, 20_000);
        const ab = await cli.ab({
          url: `http://${onl.ip}/`,
          concurrency: 20,
          requests: AB_REQUESTS,
          keepAlive: true,
          timeLimitS: 60,
        });
        assert.equal(ab.complete, AB_REQUESTS, 'ab completed every request');
        assert.equal(ab.failed, 0);
        await redisBenchmark(cli, {
          host: onl.ip,
          port: 6379,
          tests: COMMANDS.join(','),
          requests: REDIS_REQUESTS,
          clients: 20,
          pipeline: 1,
          keyspace: 1000,
          timeLimitS: 60,
        });
        // The last FINs and ACKs reach the capture (1 ms blocks; a wide margin for a busy machine).
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        code = await stopRecorder(child, watch);
      }
      assert.equal(code, 0, `recorder exit code\n${watch.text()}`);
      assert.match(watch.text(), /capture dropped 0\b/, watch.text());

      recordedHttp = (await nginx.logLines()).length - http0;
      recordedCalls = minus(withoutOwn(await commandCalls(redis)), calls0);
      onlineDigest = await redis.cli(['DEBUG', 'DIGEST']);
      assert.match(onlineDigest, /^[0-9a-f]{40}$/);
      assert.equal(recordedHttp, AB_REQUESTS, 'online nginx requests during the recording');
      for (const c of COMMANDS)
        assert.equal(recordedCalls[c], REDIS_REQUESTS, `online ${c} calls during the recording`);
      copyFileSync(labFile, file);
      chmodSync(file, 0o644);
    } finally {
      await lab.destroy();
    }

    let nginx: LoopbackNginx | null = null;
    let redis: LoopbackRedis | null = null;
    try {
      nginx = await startLoopbackNginx(await freePort());
      redis = await startLoopbackRedis(await freePort());

      // HTTP as root, through the command line.
      const httpJson = join(work, 'http.json');
      const bin = join(packageRoot(), 'bin', 'tcpcopy');
      const r = await runFile(
        process.execPath,
        [
          bin,
          '--offline',
          file,
          '--transport',
          'socket',
          '--top-speed',
          '-x',
          `80-${LOOPBACK_ADDR}:${nginx.port}`,
          '--report-json',
          httpJson,
        ],
        { timeout: 120_000, maxBuffer: 16 << 20 },
      );
      t.diagnostic(`http replay (root):\n${r.stdout}`);
      const http = JSON.parse(readFileSync(httpJson, 'utf8')) as ReplayReportJson;
      checkReport(http, 'http');
      assert.equal(http.requests?.sent, AB_REQUESTS, 'one turn per recorded HTTP request');
      assert.equal(
        await settledLines(nginx, AB_REQUESTS),
        recordedHttp,
        'target nginx access log lines = online requests',
      );

      // redis as nobody (no capabilities), through the same command-line entry point.
      const redisJson = join(work, 'redis.json');
      const args = [
        '--offline',
        file,
        '--transport',
        'socket',
        '--top-speed',
        '-x',
        `6379-${LOOPBACK_ADDR}:${redis.port}`,
        '--report-json',
        redisJson,
      ];
      const nob = runCliAsNobody([
        '--input-type=module',
        '-e',
        `
      const m = await import('./dist/src/cli/tcpcopy.js');
      await m.main(${JSON.stringify(args)});
      console.error('uid ' + process.getuid() + ' exit ' + (process.exitCode ?? 0));
    `,
      ]);
      t.diagnostic(`redis replay (nobody):\n${nob.stdout}${nob.stderr}`);
      assert.equal(nob.status, 0, `nobody replay failed: ${nob.stderr}`);
      assert.match(nob.stderr, /uid 65534 exit 0/);
      const red = JSON.parse(readFileSync(redisJson, 'utf8')) as ReplayReportJson;
      checkReport(red, 'redis');
      const targetCalls = Object.fromEntries(withoutOwn(parseCommandCalls(await redis.cli(['INFO', 'commandstats']))));
      assert.deepEqual(
        targetCalls,
        recordedCalls,
        'target redis per-command calls = online calls during the recording',
      );
      assert.equal(await redis.cli(['DEBUG', 'DIGEST']), onlineDigest, 'DEBUG DIGEST: target = online');
    } finally {
      await nginx?.stop();
      await redis?.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
