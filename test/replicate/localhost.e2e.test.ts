// -H: clients on the online host itself talk to it over loopback (127.0.0.1 → 127.0.0.1:80); tcpcopy
// -i lo -H 10.77.200.50 copies them to the target with that address instead of 127.0.0.1 (which the
// target could only answer to itself). tgt routes 10.77.200.50 via ast, as it does the lab's client.
// The online nginx logs 127.0.0.1 for every request; the target logs exactly as many, every one from
// 10.77.200.50. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const H = '10.77.200.50';
const REQUESTS = 30;

test(
  '-H: loopback clients of the online host reach the target from the -H address',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false });
    try {
      await rl.tgt.addRoute(`${H}/32`, rl.ast.ip);
      const child = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `80-${rl.tgt.ip}:8080`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '-i',
        'lo',
        '-H',
        H,
      ]);
      const w = watchProcess(child);
      await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      const mark = await markLogs(rl);
      const codes = await rl.onl.curl('http://127.0.0.1/', { count: REQUESTS });
      assert.deepEqual(new Set(codes), new Set([200]));
      const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
      child.kill('SIGINT');
      assert.equal(await w.exited, 0, w.text());
      const online = (await rl.online.logLines()).slice(mark.online).map((l) => l.split(' ')[0]);
      const target = (await rl.target.logLines()).slice(mark.target).map((l) => l.split(' ')[0]);
      t.diagnostic(
        `online ${online.length} from ${[...new Set(online)].join(',')}; target ${target.length} from ${[...new Set(target)].join(',')}`,
      );
      assert.equal(lag.online, REQUESTS);
      assert.deepEqual(new Set(online), new Set(['127.0.0.1']));
      assert.equal(target.length, REQUESTS, `${w.text()}\n${rl.diagnostics()}`);
      assert.deepEqual(new Set(target), new Set([H]));
    } finally {
      await rl.destroy();
    }
  },
);
