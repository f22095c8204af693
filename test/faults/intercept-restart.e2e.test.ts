// Faults survived (issue 15): intercept SIGKILLed in the middle of a load and started again 2 s
// later. tcpcopy keeps running, reconnects, and every session started after the restart is
// replicated; the online nginx served every client request throughout, and no packet of tcpcopy,
// intercept or the target reached the client host. Prints its figures. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, countForeign, measureLag, pollUntil } from '../lab/index.js';
import { countedLoad } from './counted-load.js';

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const AFTER = 5000;

test(
  'intercept SIGKILLed mid-load and restarted: tcpcopy reconnects, sessions after the restart replicate ≥ 0.999, clients unaffected',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    const foreign = await countForeign(rl.cli, rl.onl, rl.onlinePort);
    try {
      let during = true;
      const first = rl.cli
        .ab({ url: rl.onlineUrl('/'), concurrency: 4, requests: 30_000, keepAlive: false, timeLimitS: 8 })
        .finally(() => (during = false));
      await sleep(1000);
      assert.ok(during, 'the load still runs when intercept is killed');
      const signal = await rl.killIntercept();
      assert.equal(signal, 'SIGKILL');
      await sleep(2000);
      await rl.restartIntercept();
      const authenticated = (): number =>
        (rl.tcpcopyLog().match(/channel: 2 connection\(s\) to intercept authenticated/g) ?? []).length;
      assert.ok(
        await pollUntil(() => Promise.resolve(authenticated() >= 2), 20_000),
        `tcpcopy reconnected\n${rl.diagnostics()}`,
      );
      const a = await first;
      // Sessions of the first load caught by the outage time out on the target side; let them settle.
      await measureLag(rl, { timeoutMs: 30_000, quietMs: 1_000 });
      // Only this load's requests (/1k) count: a session of the fault's time may still finish after it.
      const lag = await countedLoad(rl, { path: '/1k', requests: AFTER });
      const b = lag.ab;
      const leaked = await rl.leakedFrames();
      const tcpcopyRuns = rl.tcpcopyProcess !== null && rl.tcpcopyProcess.exitCode === null;
      const { tcpcopy } = await rl.stop();
      const sessionsLine = /active:.*$/m.exec(tcpcopy?.log ?? '')?.[0] ?? '';
      t.diagnostic(
        `during the outage: ab ${a.complete} complete, ${a.failed} failed; after the restart: ` +
          `${lag.replicated} / ${b.complete} replicated (${(lag.replicated / b.complete).toFixed(4)}), lag ${lag.lagS.toFixed(3)} s; ` +
          `frames on cli not from the online service: ${foreign.frames}; tcpcopy ${sessionsLine}`,
      );
      assert.ok(tcpcopyRuns, `tcpcopy kept running through the outage\n${rl.diagnostics()}`);
      assert.equal(a.failed, 0, 'the online service served every request during the outage');
      assert.ok(a.complete > 0);
      assert.equal(b.complete, AFTER);
      assert.equal(b.failed, 0);
      assert.ok(lag.replicated <= AFTER, `${lag.replicated} requests for ${AFTER}`);
      assert.ok(lag.replicated >= 0.999 * AFTER, `${lag.replicated} of ${AFTER} replicated after the restart`);
      assert.equal(foreign.frames, 0, 'no packet of tcpcopy, intercept or the target reached the client');
      // The counter counts: one ping from ast to cli is a foreign packet.
      await rl.ast.exec('ping', ['-c', '1', '-W', '1', rl.cli.ip]);
      assert.ok(await pollUntil(() => Promise.resolve(foreign.frames >= 1), 2_000), 'a packet from ast is counted');
      assert.equal(leaked, 0);
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
    } finally {
      foreign.close();
      await rl.destroy();
    }
  },
);
