// Replication lag target: after a keep-alive load ends, the target's access log stops growing within
// 1.0 s of the online server's last request (measureLag, from the logs' $msec). A `todo` while the
// replay runs behind (2-4 s on the 2-core lab machine when this test was written): it runs and
// reports, but does not fail the suite. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, markLogs, measureLag } from '../../src/lab/index.js';

const isRoot = process.getuid?.() === 0;
const MAX_LAG_S = 1.0;

test(`the target stops within ${MAX_LAG_S} s after a wrk -t1 -c10 -d5s load ends`, {
  skip: !isRoot && 'needs root', todo: 'replay lag is 0.6–2.7 s today (under 1 s only on a quiet machine)', timeout: 120_000,
}, async (t) => {
  const rl = await ReplicationLab.create({ service: 'nginx' });
  try {
    const mark = await markLogs(rl);
    await rl.cli.wrk({ url: `http://${rl.onl.ip}/`, threads: 1, connections: 10, durationS: 5 });
    const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000 });
    t.diagnostic(`online ${lag.online}, replicated ${lag.replicated}, lag ${lag.lagS.toFixed(3)} s, replay rate ${lag.rateFraction.toFixed(3)} of online`);
    assert.ok(lag.replicated >= 0.999 * lag.online, `replicated ${lag.replicated} of ${lag.online}`);
    assert.ok(lag.lagS <= MAX_LAG_S, `the target kept serving ${lag.lagS.toFixed(3)} s after the online server's last request`);
  } finally {
    await rl.destroy();
  }
});
