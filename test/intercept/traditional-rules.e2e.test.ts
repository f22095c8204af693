// Traditional mode (intercept --nfqueue on tgt), the rule's life and the verdicts without a load:
// intercept installs one tagged NFQUEUE rule per family; curls through onl are replicated and tgt's
// replies never reach cli; the pass-listed adm host and an unrelated, not pass-listed connection
// (cli straight to tgt:8080) are answered; after SIGKILL the rule stays but --queue-bypass keeps
// tgt reachable; the next intercept removes the stale rule before installing its own (one per
// family, not two); after SIGTERM none is left. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraditionalLab } from '../lab/index.js';
import { nfqueueRules, tailFrom } from './traditional-check.js';

const isRoot = process.getuid?.() === 0;
const QUEUE = 7;
const OUR_RULE = `-A OUTPUT -p tcp -m tcp --sport 8080 -m comment --comment "tcpcopy-intercept queue=${QUEUE}" -j NFQUEUE --queue-num ${QUEUE} --queue-bypass`;

test(
  'traditional mode: rule installed, removed on SIGTERM, stale one removed after SIGKILL; verdicts',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const tl = await TraditionalLab.create({ queueNum: QUEUE });
    try {
      // One rule per family (iptables-save, then ip6tables-save), exactly ours.
      assert.deepEqual(nfqueueRules(await tl.firewallRules()), [OUR_RULE, OUR_RULE]);

      const codes = await tl.cli.curl(`http://${tl.onl.ip}/`, { count: 100 });
      assert.deepEqual(codes, new Array<number>(100).fill(200));
      assert.deepEqual(await tl.adm.curl(`http://${tl.tgt.ip}:8080/`, { count: 5 }), new Array<number>(5).fill(200));
      // Not pass-listed and not replicated: its SYN-ACK is held for a registration that never comes,
      // then accepted (and the rest of the connection passes as unrelated traffic).
      const started = Date.now();
      assert.deepEqual(await tl.cli.curl(`http://${tl.tgt.ip}:8080/`, { count: 1 }), [200]);
      const directMs = Date.now() - started;
      let targetLines: string[] = [];
      for (let i = 0; i < 50 && targetLines.filter((l) => l.startsWith(`${tl.cli.ip} `)).length < 101; i++) {
        await new Promise((r) => setTimeout(r, 200));
        targetLines = await tl.target.logLines();
      }
      const fromCli = targetLines.filter((l) => l.startsWith(`${tl.cli.ip} `)).length;
      const fromAdm = targetLines.filter((l) => l.startsWith(`${tl.adm.ip} `)).length;
      // 100 replicated requests + the direct one.
      assert.equal(fromCli, 101, tl.diagnostics());
      assert.equal(fromAdm, 5);
      // Every frame tgt sent cli belongs to the direct connection (its SYN-ACK ... FIN/ACK): a
      // handful, never the replicated sessions' hundreds.
      const leaked = await tl.leakedFrames();
      assert.ok(leaked >= 3 && leaked <= 8, `frames from tgt at cli: ${leaked}`);

      // SIGKILL: no cleanup; the rule stays, but --queue-bypass lets tgt's replies through.
      const child = tl.interceptChild;
      assert.ok(child);
      child.kill('SIGKILL');
      await tl.stopIntercept();
      assert.deepEqual(nfqueueRules(await tl.firewallRules()), [OUR_RULE, OUR_RULE]);
      assert.deepEqual(await tl.adm.curl(`http://${tl.tgt.ip}:8080/`, { count: 3 }), [200, 200, 200]);

      // The next start removes the stale rules of its queue, then installs its own.
      await tl.startIntercept();
      assert.match(tl.interceptLog(), new RegExp(`removed 2 stale rule\\(s\\) of queue ${QUEUE}`));
      assert.deepEqual(nfqueueRules(await tl.firewallRules()), [OUR_RULE, OUR_RULE]);
      assert.deepEqual(await tl.adm.curl(`http://${tl.tgt.ip}:8080/`, { count: 3 }), [200, 200, 200]);

      const { intercept } = await tl.stop();
      assert.equal(intercept.exitCode, 0, tailFrom(intercept.log, 'intercept summary'));
      assert.deepEqual(nfqueueRules(await tl.firewallRules()), []);
      const line = /nfqueue \d+: queued:.*/.exec(intercept.log)?.[0] ?? '';
      t.diagnostic(`direct curl ${directMs} ms; leaked ${leaked}; second run: ${line}`);
      assert.match(line, /passed:[1-9]\d*,/);
    } finally {
      await tl.destroy();
    }
  },
);
