// Faults survived (issue 15): raw send failing with EPERM for 3 s — an iptables rule on the online
// host drops tcpcopy's packets to the target in OUTPUT, so every send(2) of them fails with EPERM.
// tcpcopy counts the failures, keeps running, and once the rule is gone every new session is
// replicated again; the online service never notices. Prints its figures. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, countForeign } from '../lab/index.js';
import { countedLoad } from './counted-load.js';

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const AFTER = 5000;

test(
  'raw send failing with EPERM (iptables OUTPUT drop) for 3 s: counted, no exit, replication recovers ≥ 0.999',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    const foreign = await countForeign(rl.cli, rl.onl, rl.onlinePort);
    const rule = ['OUTPUT', '-d', rl.tgt.ip, '-p', 'tcp', '--dport', String(rl.targetPort), '-j', 'DROP'];
    try {
      const blocked = await rl.onl.exec('iptables', ['-w', '-I', ...rule]);
      assert.equal(blocked.code, 0, blocked.stderr);
      const a = await rl.cli.ab({
        url: rl.onlineUrl('/'),
        concurrency: 4,
        requests: 100_000,
        keepAlive: false,
        timeLimitS: 3,
      });
      const unblocked = await rl.onl.exec('iptables', ['-w', '-D', ...rule]);
      assert.equal(unblocked.code, 0, unblocked.stderr);
      // Sessions of the blocked period end (their handshakes time out) before the load that counts.
      await sleep(3000);
      // Only this load's requests (/1k) count: a session of the fault's time may still finish after it.
      const lag = await countedLoad(rl, { path: '/1k', requests: AFTER });
      const b = lag.ab;
      const runs = rl.tcpcopyProcess?.exitCode === null;
      const { tcpcopy } = await rl.stop();
      const sendErrors = tcpcopy?.summary?.get('send errors') ?? -1;
      const closed = /closed: .*$/m.exec(tcpcopy?.log ?? '')?.[0] ?? '';
      const eperm = /raw send failed with EPERM: \d+ packets/.test(tcpcopy?.log ?? '');
      const byCause = /send errors by cause: (.*)$/m.exec(tcpcopy?.log ?? '')?.[1] ?? '';
      t.diagnostic(
        `blocked 3 s: ${a.complete} requests served online (${a.failed} failed), tcpcopy send errors ${sendErrors} (by cause: ${byCause}; warned: ${eperm}); ` +
          `after: ${lag.replicated} / ${b.complete} replicated, lag ${lag.lagS.toFixed(3)} s; ${closed}; frames on cli not from the online service ${foreign.frames}`,
      );
      assert.ok(runs, `tcpcopy kept running\n${rl.diagnostics()}`);
      assert.equal(a.failed, 0);
      assert.ok(a.complete > 1000);
      assert.ok(sendErrors > 0, 'the failed sends are counted');
      assert.ok(eperm, `the error is named\n${rl.diagnostics()}`);
      assert.equal(byCause, `EPERM ${sendErrors}`, 'every failed send was an EPERM');
      assert.equal(b.failed, 0);
      assert.ok(
        lag.replicated >= 0.999 * AFTER && lag.replicated <= AFTER,
        `${lag.replicated} of ${AFTER} after the rule was removed`,
      );
      assert.equal(foreign.frames, 0);
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
    } finally {
      foreign.close();
      await rl.destroy();
    }
  },
);
