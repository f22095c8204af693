// --log-format json live (issue 14): tcpcopy in the lab writes one JSON object per line from start
// to exit (pino's records: level, time, tool, msg), and its final summary's counters come as
// `stats` — the same numbers the text lines carry: 30 requests sent on, 30 logged by the target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 30;

interface Rec {
  level: string;
  time: string;
  tool: string;
  msg: string;
  stats?: Record<string, number>;
}

test(
  '--log-format json: every line a JSON record; the summary counters as stats',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async () => {
    const rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false });
    try {
      const child = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `80-${rl.tgt.ip}:8080`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '--log-format',
        'json',
      ]);
      const w = watchProcess(child);
      await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      const mark = await markLogs(rl);
      const codes = await rl.cli.curl(`http://${rl.onl.ip}/`, { count: REQUESTS });
      assert.deepEqual(new Set(codes), new Set([200]));
      const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
      assert.equal(lag.replicated, REQUESTS);
      child.kill('SIGTERM');
      assert.equal(await w.exited, 0, w.text());
      const lines = w.text().trimEnd().split('\n');
      const recs = lines.map((l) => {
        try {
          return JSON.parse(l) as Rec;
        } catch {
          assert.fail(`not a JSON record: ${l}`);
        }
      });
      for (const r of recs) {
        assert.equal(r.tool, 'tcpcopy');
        assert.ok(['info', 'notice', 'warn', 'error'].includes(r.level), r.level);
        assert.ok(!Number.isNaN(Date.parse(r.time)), r.time);
      }
      const at = recs.findIndex((r) => /^tcpcopy summary after/.test(r.msg));
      assert.ok(at >= 0, 'the summary is there');
      const stats: Record<string, number> = {};
      for (const r of recs.slice(at)) Object.assign(stats, r.stats ?? {});
      assert.ok((stats['syn cnt'] ?? 0) >= 1);
      assert.equal(stats['conns'], stats['syn cnt'], 'every copied connection established');
      assert.equal(stats['send content'], REQUESTS, 'each request sent once');
      assert.equal(stats['capture dropped'], 0);
    } finally {
      await rl.destroy();
    }
  },
);
