// Graceful stop (issue 15): SIGTERM to tcpcopy while its copies of 20 idle keep-alive client
// connections are open on the target. tcpcopy resets the target's side of each (close reason
// `stopped`), so the target holds none of them a moment later, instead of until its own timeouts.
// Prints its figures. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, pollUntil, watchProcess } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const N = 20;

/** 20 keep-alive connections to onl:80, one request each, then held open until killed. */
const HOLDER = `
const net = require('node:net');
let answered = 0;
for (let i = 0; i < ${N}; i++) {
  const s = net.connect({ host: process.argv[1], port: 80 }, () => s.write('GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
  s.once('data', () => { if (++answered === ${N}) console.log('held ${N}'); });
  s.on('error', (e) => console.log('error ' + e.message));
}
setTimeout(() => process.exit(0), 60000);
`;

async function established(rl: ReplicationLab<'nginx'>): Promise<number> {
  const r = await rl.tgt.exec('ss', ['-Htn', 'state', 'established', '( sport = :8080 )']);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

test(
  'SIGTERM resets every target session tcpcopy holds: the target keeps none of the 20 idle copies',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    try {
      const holder = watchProcess(rl.cli.spawn(process.execPath, ['-e', HOLDER, rl.onl.ip]));
      await holder.waitFor(new RegExp(`held ${N}`), 20_000);
      assert.ok(
        await pollUntil(async () => (await established(rl)) === N, 10_000),
        `the target holds the ${N} copies (has ${await established(rl)})`,
      );
      const before = await established(rl);
      const { tcpcopy } = await rl.stop();
      const gone = await pollUntil(async () => (await established(rl)) === 0, 5_000);
      const after = await established(rl);
      const closed = /closed: .*$/m.exec(tcpcopy?.log ?? '')?.[0] ?? '';
      t.diagnostic(`target sessions before the stop ${before}, after ${after}; tcpcopy ${closed}`);
      assert.ok(gone, `the target still holds ${after} sessions`);
      assert.match(closed, new RegExp(`stopped ${N}\\b`));
      assert.equal(tcpcopy?.exitCode, 0, rl.diagnostics());
    } finally {
      await rl.destroy();
    }
  },
);
