// -H: clients on the online host itself talk to it over loopback (127.0.0.1 → 127.0.0.1:80); tcpcopy
// -i lo -H 10.77.200.50 copies them to the target with that address instead of 127.0.0.1 (which the
// target could only answer to itself). tgt routes 10.77.200.50 via ast, as it does the lab's client.
// The online nginx logs 127.0.0.1 for every request; the target logs exactly as many, every one from
// 10.77.200.50. With -i eth0,lo both devices are captured at once: cli's requests over eth0 and
// the loopback ones, each from its own address on the target. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const H = '10.77.200.50';
const REQUESTS = 30;

async function loopback(t: test.TestContext, devices: string): Promise<void> {
  {
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
        devices,
        '-H',
        H,
      ]);
      const w = watchProcess(child);
      await w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      const mark = await markLogs(rl);
      const both = devices.includes('eth0');
      const [codes, fromCli] = await Promise.all([
        rl.onl.curl('http://127.0.0.1/', { count: REQUESTS }),
        both ? rl.cli.curl(`http://${rl.onl.ip}/`, { count: REQUESTS }) : Promise.resolve([]),
      ]);
      assert.deepEqual(new Set([...codes, ...fromCli]), new Set([200]));
      const lag = await measureLag(rl, { since: mark, timeoutMs: 30_000, quietMs: 1_000 });
      child.kill('SIGINT');
      assert.equal(await w.exited, 0, w.text());
      const online = (await rl.online.logLines()).slice(mark.online).map((l) => l.split(' ')[0] ?? '');
      const target = (await rl.target.logLines()).slice(mark.target).map((l) => l.split(' ')[0] ?? '');
      t.diagnostic(
        `online ${online.length} from ${[...new Set(online)].join(',')}; target ${target.length} from ${[...new Set(target)].join(',')}`,
      );
      const count = (xs: string[], x: string): number => xs.filter((a) => a === x).length;
      assert.equal(lag.online, both ? 2 * REQUESTS : REQUESTS);
      assert.equal(count(online, '127.0.0.1'), REQUESTS);
      assert.equal(target.length, lag.online, `${w.text()}\n${rl.diagnostics()}`);
      assert.equal(count(target, H), REQUESTS, 'the loopback clients, from -H');
      if (both) assert.equal(count(target, rl.cli.ip), REQUESTS, "cli's, captured on eth0 at the same time");
    } finally {
      await rl.destroy();
    }
  }
}

test(
  '-H: loopback clients of the online host reach the target from the -H address',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  (t) => loopback(t, 'lo'),
);

test(
  '-i eth0,lo: two capture devices at once (cli over eth0, loopback clients over lo with -H)',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  (t) => loopback(t, 'eth0,lo'),
);
