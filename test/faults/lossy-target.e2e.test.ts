// Faults survived (issue 15): 1 % loss and 1 % reordering (a frame swapped with the next), with
// 3 ± 2 ms of delay per frame, on the target's link for the whole run. tcpcopy's retransmission
// keeps the replication ≥ 0.999 for short sessions and for keep-alive ones; the online service is
// untouched. Prints its figures. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, countForeign } from '../lab/index.js';
import { countedLoad } from './counted-load.js';

const isRoot = process.getuid?.() === 0;
const N = 4000;

test(
  '1 % loss and reordering on the target link: retransmission keeps short and keep-alive replication ≥ 0.999',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    const foreign = await countForeign(rl.cli, rl.onl, rl.onlinePort);
    try {
      const backend = await rl.lab.setNetem(rl.tgt, { delayMs: 3, jitterMs: 2, lossPct: 1, reorderPct: 1 });
      const figures: string[] = [];
      for (const keepAlive of [false, true]) {
        // Each load its own path, counted by it: a late session of the one before cannot count.
        const path = keepAlive ? '/1k' : '/';
        const lag = await countedLoad(rl, { path, requests: N, keepAlive, timeoutMs: 60_000, quietMs: 2_000 });
        const r = lag.ab;
        figures.push(
          `${keepAlive ? 'keep-alive' : 'short'}: ${lag.replicated} / ${r.complete} (${(lag.replicated / r.complete).toFixed(4)}), lag ${lag.lagS.toFixed(3)} s`,
        );
        assert.equal(r.complete, N);
        assert.equal(r.failed, 0, 'the online service is untouched');
        assert.ok(lag.replicated <= N, `${lag.replicated} for ${N}`);
        assert.ok(lag.replicated >= 0.999 * N, `${keepAlive ? 'keep-alive' : 'short'}: ${lag.replicated} of ${N}`);
      }
      const netem = await rl.lab.clearNetem(rl.tgt);
      const { tcpcopy } = await rl.stop();
      const retransmit = tcpcopy?.summary?.get('retransmit') ?? -1;
      const closed = /closed: .*$/m.exec(tcpcopy?.log ?? '')?.[0] ?? '';
      t.diagnostic(
        `${backend} ${JSON.stringify(netem)}: ${figures.join('; ')}; tcpcopy retransmit ${retransmit}; ${closed}; foreign frames on cli ${foreign.frames}`,
      );
      assert.ok(retransmit > 0, 'losses were repaired by retransmission');
      if (backend === 'nfqueue') assert.ok(netem !== null, 'the delayer reports what it did');
      if (netem !== null)
        assert.ok(netem.lost > 0 && netem.reordered > 0, `frames lost and reordered: ${JSON.stringify(netem)}`);
      assert.equal(foreign.frames, 0);
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
    } finally {
      foreign.close();
      await rl.destroy();
    }
  },
);
