// -r 30 over 10,000 short connections (ab -c20 -n10000) in the 4-host replication lab: live, the
// target serves exactly the sessions the sampling function picks from the online access log's client
// addresses and ports (isSessionSampled, the function tcpcopy uses), and they are 30 % ± 2 % of them.
// A recording of the same load (tcpcopy --record, started beside the live copy) replayed twice with
// --offline -r 30 picks the very same sessions both times. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import { isSessionSampled } from '../../src/tcpcopy/rewrite.js';

const isRoot = process.getuid?.() === 0;
const SESSIONS = 10_000;
const PERCENT = 30;

/** "ip port" of each access-log line (the lab's nginx logs the client address and port first). */
const clients = (lines: readonly string[]): string[] =>
  lines.map((l) => l.split(' ').slice(0, 2).join(' ')).sort((a, b) => a.localeCompare(b));

test(
  `-r ${PERCENT} over ${SESSIONS} sessions: the sessions the sampling picks, ${PERCENT} % ± 2 %, the same ones in two offline runs`,
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sample-'));
    // tcpcopy is started here, not by the lab, so that intercept stays up for the offline runs.
    const rl = await ReplicationLab.create({ service: 'nginx', cpus: 'split', startTcpcopy: false });
    const tcpcopy = (more: string[]) => {
      const child = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `80-${rl.tgt.ip}:8080`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '-r',
        String(PERCENT),
        ...more,
      ]);
      return { child, w: watchProcess(child) };
    };
    try {
      const file = join(dir, 'load.pcapng');
      const recChild = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '--record',
        file,
        '-x',
        '80',
        '-i',
        'eth0',
        '--stats-interval',
        '0',
      ]);
      const rec = watchProcess(recChild);
      await rec.waitFor(/recording on eth0/, 20_000);
      const liveCopy = tcpcopy(['-i', 'eth0']);
      await liveCopy.w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      const mark = await markLogs(rl);
      const ab = await rl.cli.ab({
        url: `http://${rl.onl.ip}/`,
        concurrency: 20,
        requests: SESSIONS,
        keepAlive: false,
        timeLimitS: 60,
      });
      assert.equal(ab.complete, SESSIONS);
      await measureLag(rl, { since: mark, timeoutMs: 60_000, quietMs: 1_500 });
      await new Promise((r) => setTimeout(r, 500)); // the last packets reach the recording
      recChild.kill('SIGINT');
      liveCopy.child.kill('SIGINT');
      assert.equal(await rec.exited, 0, rec.text());
      assert.equal(await liveCopy.w.exited, 0, liveCopy.w.text());
      const online = (await rl.online.logLines()).slice(mark.online);
      const live = (await rl.target.logLines()).slice(mark.target);
      const chosen = clients(
        online.filter((l) => isSessionSampled(l.split(' ')[0]!, Number(l.split(' ')[1]), PERCENT)),
      );
      assert.equal(online.length, SESSIONS);
      const share = chosen.length / SESSIONS;
      t.diagnostic(
        `live: ${live.length} of ${SESSIONS} replicated, ${chosen.length} picked (${(100 * share).toFixed(2)} %)`,
      );
      assert.ok(Math.abs(share - PERCENT / 100) <= 0.02, `the sample took ${(100 * share).toFixed(2)} %`);
      assert.deepEqual(clients(live), chosen, 'live: exactly the sessions picked');

      // Two offline runs of the recording: the same sessions each time.
      for (const run of [1, 2]) {
        const before = await markLogs(rl);
        const replay = tcpcopy(['--offline', file]);
        assert.equal(await replay.w.exited, 0, replay.w.text());
        await measureLag(rl, { since: before, timeoutMs: 60_000, quietMs: 1_500 });
        const replayed = (await rl.target.logLines()).slice(before.target);
        t.diagnostic(`offline run ${run}: ${replayed.length} replicated`);
        assert.deepEqual(clients(replayed), chosen, `offline run ${run}: the same sessions`);
      }
    } finally {
      await rl.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
