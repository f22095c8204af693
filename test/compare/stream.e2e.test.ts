// --compare-report on a protocol that is not HTTP (Redis): the turns of one redis-cli session (a
// command, its answer) are compared by byte count and digest. The target holds a key the online
// server does not, so exactly the GETs of it differ (bytes), the PINGs and SETs do not. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab, pollUntil, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import type { CompareReportJson } from '../../src/compare/index.js';

const isRoot = process.getuid?.() === 0;
const PINGS = 200;
const GETS = 100;
const SETS = 100;

test(
  '--compare-report, Redis: turns compared by bytes; exactly the GETs of a key only the target has differ',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'redis', startTcpcopy: false });
    const dir = mkdtempSync(join(tmpdir(), 'tcpcopy-compare-redis-'));
    try {
      assert.equal(await rl.target.cli(['SET', 'only-on-target', 'xyz']), 'OK');
      const file = join(dir, 'redis.json');
      const child = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `6379-${rl.tgt.ip}:6379`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '-i',
        'eth0',
        '--compare-report',
        file,
      ]);
      const w = watchProcess(child);
      try {
        await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
        // One redis-cli session: commands from standard input, one at a time, each answered first.
        const lines = [
          ...Array.from({ length: PINGS }, () => 'PING'),
          ...Array.from({ length: GETS }, () => 'GET only-on-target'),
          ...Array.from({ length: SETS }, (_, i) => `SET k${i} v${i}`),
          'SET done 1',
        ];
        const script = `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} | redis-cli -h ${rl.onl.ip} -p 6379`;
        const out = await rl.cli.exec('sh', ['-c', script], { timeoutMs: 30_000 });
        assert.equal(out.stdout.split('\n').filter((l) => l === 'PONG').length, PINGS);
        await pollUntil(async () => (await rl.target.cli(['GET', 'done'])) === '1', 20_000);
        await new Promise((r) => setTimeout(r, 500)); // the last answer's relay
      } finally {
        child.kill('SIGINT');
      }
      assert.equal(await w.exited, 0, w.text());
      const r = JSON.parse(readFileSync(file, 'utf8')) as CompareReportJson;
      t.diagnostic(`${JSON.stringify(r.totals)} ${JSON.stringify(r.endpoints)}`.slice(0, 1500));
      // redis-cli asks COMMAND DOCS first (a 170 KB answer, which tcpcopy's pacing lets the next requests
      // overtake on the wire: the turns still come out right), then our commands and the last SET.
      const total = 1 + PINGS + GETS + SETS + 1;
      assert.deepEqual(
        [r.totals.compared, r.totals.identical, r.totals.different, r.totals.missingTarget, r.totals.notCompared],
        [total, total - GETS, GETS, 0, 0],
      );
      const tcp = r.endpoints.find((e) => e.endpoint === 'TCP');
      assert.ok(tcp !== undefined);
      assert.deepEqual(
        tcp.differences.map((d) => [d.kind, d.count]),
        [['bytes', GETS]],
      );
      const ex = tcp.differences[0]!.examples[0]!;
      assert.deepEqual(
        [ex.target, ex.online, ex.targetValue],
        ['*2\\r\\n$3\\r\\nGET\\r\\n$14\\r\\nonly-on-target\\r\\n', '5', '9'],
      );
      assert.equal(r.latencyMs.online.count, total);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await rl.destroy();
    }
  },
);
