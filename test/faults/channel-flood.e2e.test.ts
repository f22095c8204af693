// Security (issue 15): a stranger on the client network floods intercept's channel port for 8 s with
// unauthenticated and malformed peers (silent, random bytes, a wrong authenticator, a huge frame, a
// REGISTER before authentication) while a load is replicated. Every bogus peer is refused or timed
// out, tcpcopy's authenticated connections are never dropped, and the load replicates ≥ 0.999.
// Prints its figures. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, countForeign, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const N = 8000;

test(
  'a flood of bogus peers on the channel port: all refused, tcpcopy keeps its connections, the load replicates ≥ 0.999',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    // The flooder itself talks to intercept's port from cli: those answers are its own.
    const foreign = await countForeign(
      rl.cli,
      rl.onl,
      rl.onlinePort,
      `tcp and src host ${rl.ast.ip} and src port 36524`,
    );
    try {
      const mark = await markLogs(rl);
      const flooder = rl.cli.spawn(process.execPath, [
        join(packageRoot(), 'dist', 'test', 'faults', 'channel-flood-peer.js'),
        rl.ast.ip,
        '36524',
        '8',
        '400',
      ]);
      const flood = watchProcess(flooder);
      const load = await rl.cli.ab({
        url: rl.onlineUrl('/'),
        concurrency: 4,
        requests: N,
        keepAlive: false,
        timeLimitS: 60,
      });
      const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
      await flood.exited;
      const figures = JSON.parse(/\{.*\}/.exec(flood.text())?.[0] ?? '{}') as {
        opened?: number;
        welcomed?: number;
        refusedWithError?: number;
        byKind?: Record<string, number>;
      };
      const changesBeforeStop = (
        rl.tcpcopyLog().match(/channel: \d+ connection\(s\) to intercept authenticated/g) ?? []
      ).length;
      const { tcpcopy, intercept } = await rl.stop();
      const refused = intercept.summary?.get('refused peers') ?? -1;
      t.diagnostic(
        `flood: ${JSON.stringify(figures)}; intercept refused peers ${refused}; ` +
          `load ${lag.replicated} / ${load.complete} replicated, lag ${lag.lagS.toFixed(3)} s; tcpcopy connection changes ${changesBeforeStop}`,
      );
      assert.ok((figures.opened ?? 0) >= 1000, `the flood opened ${figures.opened} connections`);
      assert.equal(figures.welcomed, 0, 'no bogus peer was welcomed');
      assert.ok(refused >= (figures.opened ?? 0) * 0.5, `intercept refused ${refused} of ${figures.opened}`);
      assert.equal(load.failed, 0);
      assert.ok(lag.replicated >= 0.999 * N && lag.replicated <= N, `${lag.replicated} of ${N} during the flood`);
      // 1 and 2 connections authenticated at start, then no change until the stop.
      assert.equal(changesBeforeStop, 2, `tcpcopy's connections were never dropped\n${tcpcopy?.log ?? ''}`);
      assert.equal(foreign.frames, 0);
      assert.equal(intercept.exitCode, 0, rl.diagnostics());
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
    } finally {
      foreign.close();
      await rl.destroy();
    }
  },
);
