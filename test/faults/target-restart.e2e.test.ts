// Faults survived (issue 15): the target server stopped for 10 s during a load and started again.
// The sessions copied meanwhile end (counted by reason in tcpcopy's summary), tcpcopy's memory
// stays bounded, and replication resumes: every session started after the restart reaches the new
// target. The online nginx served every client request, and nothing but the online service reached
// the client host. Prints its figures. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ReplicationLab, countForeign, pollUntil } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const AFTER = 5000;

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return kb === null ? NaN : Number(kb[1]) / 1024;
}

test(
  'target server stopped for 10 s and restarted: copied sessions end and are counted, memory bounded, replication resumes ≥ 0.999',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    const foreign = await countForeign(rl.cli, rl.onl, rl.onlinePort);
    try {
      const pid = rl.tcpcopyProcess?.pid ?? 0;
      const rssBefore = await rssMiB(pid);
      let rssPeak = rssBefore;
      const outageLoad = rl.cli.ab({
        url: rl.onlineUrl('/'),
        concurrency: 4,
        requests: 200_000,
        keepAlive: false,
        timeLimitS: 12,
      });
      await sleep(1000);
      await rl.target.stop();
      const down = Date.now();
      while (Date.now() - down < 10_000) {
        await sleep(500);
        rssPeak = Math.max(rssPeak, await rssMiB(pid));
      }
      const target = await rl.tgt.startNginx({ port: rl.targetPort });
      const a = await outageLoad;
      // Let the sessions of the outage load end (its last second reached the new target) before the load
      // that must replicate; the new target's log is counted from here.
      await sleep(3000);
      const before = (await target.logLines()).length;
      const rel = (): number => Number(/active:\d+,rel:(\d+)/.exec(rl.tcpcopyLog())?.[1] ?? -1);
      const b = await rl.cli.ab({
        url: rl.onlineUrl('/1k'),
        concurrency: 4,
        requests: AFTER,
        keepAlive: false,
        timeLimitS: 60,
      });
      let replicated = 0;
      await pollUntil(
        async () => {
          const n = (await target.logLines()).slice(before).filter((l) => l.includes(' /1k ')).length;
          const settled = n === replicated && n > 0;
          replicated = n;
          return settled && n >= AFTER;
        },
        30_000,
        1_000,
      );
      replicated = (await target.logLines()).slice(before).filter((l) => l.includes(' /1k ')).length;
      rssPeak = Math.max(rssPeak, await rssMiB(pid));
      const runs = rl.tcpcopyProcess?.exitCode === null;
      const { tcpcopy } = await rl.stop();
      const closed = /closed: .*$/m.exec(tcpcopy?.log ?? '')?.[0] ?? '';
      const notFinished = [...closed.matchAll(/([a-z ]+) (\d+)/g)]
        .filter((m) => m[1]!.trim() !== 'finished' && m[1]!.trim() !== 'closed:')
        .reduce((s, m) => s + Number(m[2]), 0);
      t.diagnostic(
        `outage load: ${a.complete} requests served online (${a.failed} failed); after the restart ${replicated} / ${b.complete} replicated; ` +
          `tcpcopy ${closed}; rss ${rssBefore.toFixed(0)} → peak ${rssPeak.toFixed(0)} MiB; frames on cli not from the online service ${foreign.frames}; rel ${rel()}`,
      );
      assert.ok(runs, `tcpcopy kept running\n${rl.diagnostics()}`);
      assert.equal(a.failed, 0, 'the online service served every request during the outage');
      assert.ok(a.complete > 1000, 'the outage load ran');
      assert.equal(b.complete, AFTER);
      assert.equal(b.failed, 0);
      assert.ok(replicated >= 0.999 * AFTER && replicated <= AFTER, `${replicated} of ${AFTER} after the restart`);
      assert.ok(notFinished > 0, `sessions of the outage counted as ended early: ${closed}`);
      assert.ok(rssPeak - rssBefore < 128, `rss grew ${(rssPeak - rssBefore).toFixed(0)} MiB during the outage`);
      assert.equal(foreign.frames, 0, 'nothing but the online service reached the client');
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
    } finally {
      foreign.close();
      await rl.destroy();
    }
  },
);
