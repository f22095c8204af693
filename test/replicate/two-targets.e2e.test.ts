// One online port mirrored into two targets (-x 80-tgt:8080,80-tgt:8081: two nginx on tgt, each with
// its own access log; intercept on ast captures the replies of both ports). Every online session is
// replayed to each target as a session of its own (the engine dispatches each captured packet once
// per target; src/tcpcopy/resolver.ts buildMoreTargets). ab -c20 -n5000 (short connections) and
// ab -k -c20 -n5000 against onl: each target's log counts what online's does (within 0.1 %, the
// issue's bound; exact in the runs so far), from the real client address. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 5_000;

test(
  '-x 80-T:8080,80-T:8081: every session reaches both targets (short and keep-alive loads)',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({
      service: 'nginx',
      startTcpcopy: false,
      interceptArgs: ['-F', 'tcp and src host 10.77.0.3 and (src port 8080 or src port 8081)'],
    });
    try {
      const second = await rl.tgt.startNginx({ port: 8081 });
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
      ]);
      const w = watchProcess(child);
      await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      for (const keepAlive of [false, true]) {
        const mark = await markLogs(rl);
        const secondMark = (await second.logLines()).length;
        const ab = await rl.cli.ab({
          url: `http://${rl.onl.ip}/`,
          concurrency: 20,
          requests: REQUESTS,
          keepAlive,
          timeLimitS: 60,
        });
        assert.equal(ab.complete, REQUESTS);
        const lag = await measureLag(rl, { since: mark, timeoutMs: 60_000, quietMs: 1_500 });
        const other = (await second.logLines()).slice(secondMark);
        t.diagnostic(
          `${keepAlive ? 'ab -k' : 'ab'}: online ${lag.online}, target 8080 ${lag.replicated}, target 8081 ${other.length}`,
        );
        assert.equal(lag.online, REQUESTS);
        for (const [name, n] of [
          ['8080', lag.replicated],
          ['8081', other.length],
        ] as const) {
          assert.ok(Math.abs(n - REQUESTS) <= 0.001 * REQUESTS, `target ${name}: ${n} of ${REQUESTS}\n${w.text()}`);
        }
        assert.deepEqual(new Set(other.map((l) => l.split(' ')[0])), new Set([rl.cli.ip]));
      }
      child.kill('SIGINT');
      assert.equal(await w.exited, 0, w.text());
    } finally {
      await rl.destroy();
    }
  },
);
