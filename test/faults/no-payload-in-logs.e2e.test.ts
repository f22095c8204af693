// Security (issue 15): log lines carry no payload. Requests with a distinctive marker in their URL
// are replicated (the target's log has them), and neither tcpcopy's nor intercept's log, with
// their statistics every second and the final summaries, holds the marker. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ReplicationLab, pollUntil } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const N = 50;

test(
  'no payload in the logs: marked requests replicated, the marker in no log line of tcpcopy or intercept',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({
      service: 'nginx',
      tcpcopyArgs: ['--stats-interval', '1'],
      interceptArgs: ['--stats-interval', '1'],
    });
    try {
      const marker = `payload-mark-${randomBytes(6).toString('hex')}`;
      const codes = await rl.cli.curl(rl.onlineUrl(`/?${marker}`), { count: N });
      assert.deepEqual(codes, new Array<number>(N).fill(200));
      await pollUntil(
        async () => (await rl.target.logLines()).filter((l) => l.includes(marker)).length >= N,
        20_000,
        200,
      );
      const replicated = (await rl.target.logLines()).filter((l) => l.includes(marker)).length;
      const { tcpcopy, intercept } = await rl.stop();
      const logs = `${tcpcopy?.log ?? ''}\n${intercept.log}`;
      t.diagnostic(`${replicated} / ${N} marked requests replicated; ${logs.split('\n').length} log lines read`);
      assert.equal(replicated, N);
      assert.ok(
        tcpcopy !== null && tcpcopy.summary !== null && intercept.summary !== null,
        'both printed their summaries',
      );
      assert.ok(!logs.includes(marker), 'the marker is in no log line');
    } finally {
      await rl.destroy();
    }
  },
);
