// --compare-report in the replication lab (issue 14's acceptance): online nginx answers 200 everywhere;
// the target nginx answers 500 under /bad/ and changes one JSON field ("version") of /json. ab -k
// over a URL mix; tcpcopy is stopped and its report read:
//   1. every request compared, none missing; exactly the /bad/* requests flagged by status, exactly
//      the /json ones by json:version, nothing else;
//   2. again with --compare-ignore-json version and --compare-ignore-path /bad/2: only /bad/1 flagged,
//      the 60 /bad/22 requests counted as ignored;
//   3. with a 5 ms delay on everything the target sends (the lab's netem), the target's p50 moves by
//      what the delay really adds (onl→tgt ping, ≈ 5.1 ms) ± 1 ms against run 2's; online's within 1 ms;
//   4. the recording of run 1 replayed offline with --compare-report: the same totals and kinds.
// Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import type { CompareReportJson } from '../../src/compare/index.js';

const isRoot = process.getuid?.() === 0;

const JSON_ONLINE = '{"id":7,"name":"tcpcopy","version":1,"tags":["a","b"]}';
const JSON_TARGET = '{"id":7,"name":"tcpcopy","version":2,"tags":["a","b"]}';
const ONLINE = `location /bad/ { return 200 "fine\\n"; }
    location = /json { default_type application/json; return 200 '${JSON_ONLINE}'; }`;
const TARGET = `location /bad/ { return 500 "broken\\n"; }
    location = /json { default_type application/json; return 200 '${JSON_TARGET}'; }`;

/** The URL mix: path → requests (ab -k -c4 each, one after the other). */
const MIX: readonly (readonly [string, number])[] = [
  ['/', 300],
  ['/bad/1', 100],
  ['/1k', 200],
  ['/bad/22', 60],
  ['/json', 150],
];
const TOTAL = MIX.reduce((a, [, n]) => a + n, 0);
const BAD = 160;
const JSONS = 150;

type Lab = ReplicationLab<'nginx'>;

async function run(
  rl: Lab,
  dir: string,
  name: string,
  extra: readonly string[],
  concurrency = 4,
): Promise<CompareReportJson> {
  const file = join(dir, `${name}.json`);
  const child = rl.onl.spawn(process.execPath, [
    join(packageRoot(), 'bin', 'tcpcopy'),
    '-x',
    `80-${rl.tgt.ip}:8080`,
    '-s',
    rl.ast.ip,
    '--secret',
    rl.secret,
    '-i',
    'eth0',
    '--compare-report',
    file,
    ...extra,
  ]);
  const w = watchProcess(child);
  try {
    await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
    const mark = await markLogs(rl);
    for (const [path, n] of MIX) {
      const ab = await rl.cli.ab({
        url: rl.onlineUrl(path),
        concurrency,
        requests: n,
        keepAlive: true,
        timeLimitS: 60,
      });
      assert.equal(ab.complete, n, `ab ${path}`);
    }
    const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
    assert.equal(lag.online, TOTAL);
    assert.equal(lag.replicated, TOTAL, w.text());
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await w.exited, 0, w.text());
  const log = w.text();
  assert.match(log, /compare: report written to /);
  const report = JSON.parse(readFileSync(file, 'utf8')) as CompareReportJson;
  assert.match(log, new RegExp(`compare: ${report.totals.compared} compared`), log);
  return report;
}

/** The median of 40 ping RTTs from onl to tgt (cli's replies go to ast), in ms. */
async function pingMedianMs(rl: Lab): Promise<number> {
  const r = await rl.onl.exec('ping', ['-n', '-c', '40', '-i', '0.01', '-W', '2', rl.tgt.ip]);
  const rtts = [...r.stdout.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  assert.ok(rtts.length >= 30, r.stdout);
  return rtts[Math.floor(rtts.length / 2)]!;
}

function endpoint(r: CompareReportJson, name: string): CompareReportJson['endpoints'][number] {
  const e = r.endpoints.find((x) => x.endpoint === name);
  assert.ok(e !== undefined, `${name} in ${JSON.stringify(r.endpoints.map((x) => x.endpoint))}`);
  return e;
}

test(
  '--compare-report: /bad/* flagged exactly (status), a changed JSON field flagged by its path and ignorable; a 5 ms target delay moves its p50 by 5 ms',
  { skip: !isRoot && 'needs root', timeout: 300_000 },
  async (t) => {
    const rl = await ReplicationLab.create({
      service: 'nginx',
      startTcpcopy: false,
      nginxLocations: { online: ONLINE, target: TARGET },
      interceptArgs: ['--reply-payload', '2048'],
    });
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-compare-'));
    try {
      // The first run is also recorded (both directions), for the offline replay at the end.
      const recording = join(dir, 'load.pcapng');
      const recChild = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '--record',
        recording,
        '-x',
        '80',
        '-i',
        'eth0',
        '--stats-interval',
        '0',
      ]);
      const rec = watchProcess(recChild);
      await rec.waitFor(/recording on eth0/, 20_000);
      const first = await run(rl, dir, 'first', []);
      recChild.kill('SIGINT');
      assert.equal(await rec.exited, 0, rec.text());
      t.diagnostic(
        `first: ${JSON.stringify(first.totals)} ${JSON.stringify(first.differencesByKind)} ${JSON.stringify(first.latencyMs)}`,
      );
      assert.deepEqual(first.totals, {
        compared: TOTAL,
        identical: TOTAL - BAD - JSONS,
        different: BAD + JSONS,
        missingTarget: 0,
        missingOnline: 0,
        notCompared: 0,
        unfinished: 0,
        ignored: 0,
      });
      const bad = endpoint(first, 'GET /bad/:id');
      assert.equal(bad.total, BAD);
      assert.equal(bad.different, BAD);
      assert.deepEqual(
        bad.differences.map((d) => [d.kind, d.count]),
        [
          ['status', BAD],
          ['body-length', BAD],
        ],
      );
      assert.deepEqual(bad.differences[0]!.examples[0], { target: '/bad/1', online: '200', targetValue: '500' });
      const json = endpoint(first, 'GET /json');
      assert.deepEqual(
        json.differences.map((d) => [d.kind, d.count]),
        [['json:version', JSONS]],
      );
      assert.equal(endpoint(first, 'GET /').different, 0);
      assert.equal(endpoint(first, 'GET /1k').identical, 200);
      assert.equal(first.latencyMs.online.count, TOTAL);
      assert.equal(first.latencyMs.target.count, TOTAL);

      const ignore = ['--compare-ignore-json', 'version', '--compare-ignore-path', '/bad/2'];
      const quiet = await run(rl, dir, 'ignore', ignore, 1);
      t.diagnostic(`ignore: ${JSON.stringify(quiet.totals)} ${JSON.stringify(quiet.latencyMs)}`);
      // /bad/22 is left out by path (60 requests), /bad/1 stays.
      assert.deepEqual([quiet.totals.compared, quiet.totals.ignored], [TOTAL - 60, 60]);
      assert.equal(quiet.totals.different, BAD - 60);
      assert.equal(endpoint(quiet, 'GET /json').identical, JSONS);
      assert.deepEqual(Object.keys(quiet.differencesByKind).sort(), ['body-length', 'status']);

      // What the lab's delay really adds (its NFQUEUE stand-in for netem is a user-space process): the
      // shift of onl's ping RTT to tgt, whose echo replies it delays too.
      const pingBefore = await pingMedianMs(rl);
      const backend = await rl.lab.setNetem(rl.tgt, { delayMs: 5 });
      const pingDelayed = await pingMedianMs(rl);
      const slow = await run(rl, dir, 'delay', ignore, 1);
      const pingAfter = await pingMedianMs(rl);
      await rl.lab.clearNetem(rl.tgt);
      const added = (pingDelayed + pingAfter) / 2 - pingBefore;
      t.diagnostic(
        `the delay (${backend}): ping p50 ${pingBefore} → ${pingDelayed}, ${pingAfter} ms: ${added.toFixed(3)} ms added`,
      );
      const shift = slow.latencyMs.target.p50 - quiet.latencyMs.target.p50;
      const onlineShift = slow.latencyMs.online.p50 - quiet.latencyMs.online.p50;
      t.diagnostic(
        `5 ms delay: target p50 ${quiet.latencyMs.target.p50} → ${slow.latencyMs.target.p50} ms (${shift.toFixed(3)}), ` +
          `online p50 ${quiet.latencyMs.online.p50} → ${slow.latencyMs.online.p50} ms`,
      );
      // The report's shift is the delay the lab added, ± 1 ms (5 ms asked; a loaded lab's delayer adds more).
      assert.ok(Math.abs(shift - added) <= 1, `target p50 moved ${shift} ms, the lab added ${added} ms`);
      assert.ok(Math.abs(onlineShift) <= 1, `online p50 moved ${onlineShift} ms`);

      // Offline replay of the recording: the online responses come from the file, the same findings.
      const mark = await markLogs(rl);
      const offlineFile = join(dir, 'offline.json');
      const off = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `80-${rl.tgt.ip}:8080`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '--offline',
        recording,
        '--compare-report',
        offlineFile,
      ]);
      const ow = watchProcess(off);
      assert.equal(await ow.exited, 0, ow.text());
      const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
      assert.equal(lag.replicated, TOTAL);
      const offline = JSON.parse(readFileSync(offlineFile, 'utf8')) as CompareReportJson;
      t.diagnostic(`offline: ${JSON.stringify(offline.totals)} ${JSON.stringify(offline.latencyMs)}`);
      assert.deepEqual(offline.totals, first.totals);
      assert.deepEqual(offline.differencesByKind, first.differencesByKind);

      // The same recording over ordinary sockets from onl (no intercept): the target's replies as read
      // from the sockets against the recording's online ones: the same findings again.
      const socketFile = join(dir, 'socket.json');
      const sock = await rl.onl.exec(
        process.execPath,
        [
          join(packageRoot(), 'bin', 'tcpcopy'),
          '-x',
          `80-${rl.tgt.ip}:8080`,
          '--offline',
          recording,
          '--transport',
          'socket',
          '--compare-report',
          socketFile,
        ],
        { check: false, timeoutMs: 120_000 },
      );
      assert.equal(sock.code, 0, sock.stdout + sock.stderr);
      assert.match(sock.stdout, /compare: 810 compared/);
      const overSockets = JSON.parse(readFileSync(socketFile, 'utf8')) as CompareReportJson;
      t.diagnostic(`socket: ${JSON.stringify(overSockets.totals)} ${JSON.stringify(overSockets.latencyMs)}`);
      assert.deepEqual(overSockets.totals, first.totals);
      assert.deepEqual(overSockets.differencesByKind, first.differencesByKind);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await rl.destroy();
    }
  },
);

// Diffy-style noise: a second target (tgt:8081) runs the online build; every /json and /time answer
// carries a random request id ("rid"), so they differ everywhere by json:rid. The candidate (8080)
// also answers /json with version 2 and /bad/* with 500. The report marks json:rid noise and counts
// as different beyond the noise exactly the /json and /bad/* requests, not /time.
const NOISY_ONLINE = `location /bad/ { return 200 "fine\\n"; }
    location = /json { default_type application/json; return 200 '{"id":7,"version":1,"rid":"$request_id"}'; }
    location = /time { default_type application/json; return 200 '{"rid":"$request_id"}'; }`;
const NOISY_CANDIDATE = `location /bad/ { return 500 "broken\\n"; }
    location = /json { default_type application/json; return 200 '{"id":7,"version":2,"rid":"$request_id"}'; }
    location = /time { default_type application/json; return 200 '{"rid":"$request_id"}'; }`;

test(
  '--compare-noise: a second target on the online build marks json:rid noise; /json and /bad/* stay different beyond it, /time does not',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const rl = await ReplicationLab.create({
      service: 'nginx',
      startTcpcopy: false,
      nginxLocations: { online: NOISY_ONLINE, target: NOISY_CANDIDATE },
      interceptArgs: [
        '--reply-payload',
        '2048',
        '-F',
        'tcp and src host 10.77.0.3 and (src port 8080 or src port 8081)',
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-noise-'));
    try {
      const secondary = await rl.tgt.startNginx({ port: 8081, locations: NOISY_ONLINE });
      const file = join(dir, 'noise.json');
      const child = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `80-${rl.tgt.ip}:8080,80-${rl.tgt.ip}:8081`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '-i',
        'eth0',
        '--compare-report',
        file,
        '--compare-noise',
        `${rl.tgt.ip}:8081`,
      ]);
      const w = watchProcess(child);
      try {
        await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
        const before = (await secondary.logLines()).length;
        const mark = await markLogs(rl);
        for (const [path, n] of [
          ['/json', 200],
          ['/bad/3', 100],
          ['/time', 100],
        ] as const) {
          const ab = await rl.cli.ab({
            url: rl.onlineUrl(path),
            concurrency: 2,
            requests: n,
            keepAlive: true,
            timeLimitS: 60,
          });
          assert.equal(ab.complete, n);
        }
        const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
        assert.equal(lag.replicated, 400);
        assert.equal((await secondary.logLines()).length - before, 400, 'the noise target got every request too');
      } finally {
        child.kill('SIGINT');
      }
      assert.equal(await w.exited, 0, w.text());
      const r = JSON.parse(readFileSync(file, 'utf8')) as CompareReportJson & { noise: CompareReportJson };
      t.diagnostic(`candidate ${JSON.stringify(r.totals)}; noise ${JSON.stringify(r.noise.totals)}`);
      assert.equal(r.noiseTarget, `${rl.tgt.ip}:8081`);
      assert.deepEqual(
        [r.totals.compared, r.totals.different, r.totals.differentBeyondNoise, r.totals.missingTarget],
        [400, 400, 300, 0],
      );
      const kinds = (e: string): Array<[string, number, boolean | undefined]> =>
        endpoint(r, e).differences.map((d) => [d.kind, d.count, d.noisy]);
      // Equal counts keep the order the kinds were first seen in (the body's key order).
      assert.deepEqual(kinds('GET /json'), [
        ['json:version', 200, false],
        ['json:rid', 200, true],
      ]);
      assert.deepEqual(kinds('GET /time'), [['json:rid', 100, true]]);
      assert.equal(endpoint(r, 'GET /time').differentBeyondNoise, 0);
      assert.equal(endpoint(r, 'GET /bad/:id').differentBeyondNoise, 100);
      assert.deepEqual([r.noise.totals.compared, r.noise.totals.different], [400, 300]);
      assert.match(w.text(), /compare: 400 compared, 0 identical, 400 different.*; 300 different beyond the noise/);
      assert.match(w.text(), /compare noise 10\.77\.0\.3:8081: 400 compared, 100 identical, 300 different/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await rl.destroy();
    }
  },
);
