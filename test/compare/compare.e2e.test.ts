// --compare-report in the replication lab (issue 14's acceptance): online nginx answers 200 everywhere;
// the target nginx answers 500 under /bad/ and changes one JSON field ("version") of /json. ab -k
// over a URL mix; tcpcopy is stopped and its report read:
//   1. every request compared, none missing; exactly the /bad/* requests flagged by status, exactly
//      the /json ones by json:version, nothing else;
//   2. again with --compare-ignore-json version: only /bad/* flagged;
//   3. with a 5 ms delay on everything the target sends (the lab's netem), the target's p50 moves by
//      5 ms ± 1 ms against run 2's and online's stays within 1 ms.
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
  assert.match(log, new RegExp(`compare: ${TOTAL} compared`), log);
  assert.match(log, /compare: report written to /);
  return JSON.parse(readFileSync(file, 'utf8')) as CompareReportJson;
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
      const first = await run(rl, dir, 'first', []);
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

      const quiet = await run(rl, dir, 'ignore', ['--compare-ignore-json', 'version'], 1);
      t.diagnostic(`ignore: ${JSON.stringify(quiet.totals)} ${JSON.stringify(quiet.latencyMs)}`);
      assert.equal(quiet.totals.different, BAD);
      assert.equal(endpoint(quiet, 'GET /json').identical, JSONS);
      assert.deepEqual(Object.keys(quiet.differencesByKind).sort(), ['body-length', 'status']);

      await rl.lab.setNetem(rl.tgt, { delayMs: 5 });
      const slow = await run(rl, dir, 'delay', ['--compare-ignore-json', 'version'], 1);
      await rl.lab.clearNetem(rl.tgt);
      const shift = slow.latencyMs.target.p50 - quiet.latencyMs.target.p50;
      const onlineShift = slow.latencyMs.online.p50 - quiet.latencyMs.online.p50;
      t.diagnostic(
        `5 ms delay: target p50 ${quiet.latencyMs.target.p50} → ${slow.latencyMs.target.p50} ms (${shift.toFixed(3)}), ` +
          `online p50 ${quiet.latencyMs.online.p50} → ${slow.latencyMs.online.p50} ms`,
      );
      assert.ok(Math.abs(shift - 5) <= 1, `target p50 moved ${shift} ms`);
      assert.ok(Math.abs(onlineShift) <= 1, `online p50 moved ${onlineShift} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await rl.destroy();
    }
  },
);
