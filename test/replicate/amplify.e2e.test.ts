// -n 3 (three copies of every session) under ab in the 4-host replication lab (cli → nginx on onl:80,
// copied to nginx on tgt:8080). Short connections: 20,000 online connections become 60,000 on the
// target, every copy on a client port no live session holds (src/tcpcopy/copy-ports.ts: a copy whose
// port is taken moves on along the port permutation). Before it, a copy landing on the port of a live
// session (another session's copy, or the same port's previous connection still replayed) shared its
// 4-tuple: the engine ended the older one to start it, and its request was lost (23 of 60,000 in one
// run). The target must serve exactly 3 × online (the issue allows 0.1 %: asserted), tcpcopy must end
// no session for another on its 4-tuple (`closed:` without `replaced`), and a capture on tgt must see
// no RST from the target. Keep-alive: 3 × online as well, and the target's log stops growing within
// 2 s after the load ends (the keep-pace bound under amplification; the target on its own vCPU, as in
// test/lab/replication-lag.e2e.test.ts). Many clients: -n 100 over 200 short connections from each
// of 5 client addresses (cli's own and 4 more on its eth0, routed on tgt via ast like cli's) gives
// 100 × online, every address 100 × its own. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ReplicationLab,
  SPLIT_CPUS,
  allowedCpus,
  markLogs,
  measureLag,
  startHeaderCapture,
  watchProcess,
} from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const splitCpus = [...new Set(Object.values(SPLIT_CPUS))];
const skip = !isRoot
  ? 'needs root'
  : splitCpus.every((c) => allowedCpus().includes(c))
    ? false
    : `needs CPUs ${splitCpus.join(' and ')}`;
const REQUESTS = 20_000;

async function amplified(t: test.TestContext, keepAlive: boolean): Promise<void> {
  const rl = await ReplicationLab.create({ service: 'nginx', cpus: 'split', tcpcopyArgs: ['-n', '3'] });
  try {
    const rst = await startHeaderCapture(rl.tgt, `src host ${rl.tgt.ip} and tcp[tcpflags] & tcp-rst != 0`);
    const mark = await markLogs(rl);
    const ab = await rl.cli.ab({
      url: `http://${rl.onl.ip}/`,
      concurrency: 20,
      requests: REQUESTS,
      keepAlive,
      timeLimitS: 60,
    });
    const lag = await measureLag(rl, { since: mark, timeoutMs: 60_000, quietMs: 1_500 });
    const captured = await rst.stop();
    const rsts = (await rl.tgt.exec('tcpdump', ['-r', captured.path, '-n'])).stdout
      .split('\n')
      .filter((l) => l.trim() !== '');
    const { tcpcopy } = await rl.stop();
    const log = tcpcopy?.log ?? '';
    const closed = /closed: ([^\n\\]*)/.exec(log)?.[1] ?? '';
    const ports = /copy ports: ([^\n\\]*)/.exec(log)?.[1] ?? '';
    t.diagnostic(
      `ab ${ab.complete} complete, ${ab.failed} failed; online ${lag.online}, target ${lag.replicated} ` +
        `(${(lag.replicated / (3 * lag.online)).toFixed(5)} of 3×), lag ${lag.lagS.toFixed(3)} s; ` +
        `closed: ${closed}; copy ports: ${ports}; target RSTs ${rsts.length}`,
    );
    assert.equal(lag.online, REQUESTS, 'the online server served the load');
    assert.ok(
      Math.abs(lag.replicated - 3 * lag.online) <= 0.001 * 3 * lag.online,
      `the target served ${lag.replicated} of ${3 * lag.online}\n${rl.diagnostics()}`,
    );
    assert.doesNotMatch(closed, /replaced/, 'no session ended for another on its 4-tuple');
    assert.match(ports, /^moved \d+, none free 0$/);
    assert.deepEqual(rsts, [], 'no RST from the target');
    if (keepAlive) assert.ok(lag.lagS <= 2, `the target ran on ${lag.lagS.toFixed(3)} s after the load`);
  } finally {
    await rl.destroy();
  }
}

test(
  '-n 3, ab -c20 -n20000 (short connections): 3 × online on the target, no shared 4-tuple, no RST',
  {
    skip,
    timeout: 180_000,
  },
  (t) => amplified(t, false),
);

test(
  '-n 3, ab -k -c20 -n20000 (keep-alive): 3 × online, the target done within 2 s after the load',
  {
    skip,
    timeout: 180_000,
  },
  (t) => amplified(t, true),
);

test(
  '-n 100, 200 short connections from each of 5 client addresses: 100 × online on the target',
  {
    skip,
    timeout: 240_000,
  },
  async (t) => {
    const extra = ['10.77.0.21', '10.77.0.22', '10.77.0.23', '10.77.0.24'];
    const rl = await ReplicationLab.create({ service: 'nginx', cpus: 'split', tcpcopyArgs: ['-n', '100'] });
    try {
      for (const a of extra) {
        await rl.cli.exec('ip', ['addr', 'add', `${a}/24`, 'dev', rl.cli.ifname]);
        await rl.tgt.addRoute(`${a}/32`, rl.ast.ip);
      }
      const mark = await markLogs(rl);
      const client = rl.cli.spawn(process.execPath, [
        join(packageRoot(), 'dist', 'test', 'replicate', 'short-clients.js'),
        `http://${rl.onl.ip}/`,
        '200',
        rl.cli.ip,
        ...extra,
      ]);
      const w = watchProcess(client);
      assert.equal(await w.exited, 0, w.text());
      const lag = await measureLag(rl, { since: mark, timeoutMs: 120_000, quietMs: 2_000 });
      const { tcpcopy } = await rl.stop();
      const log = tcpcopy?.log ?? '';
      const closed = /closed: ([^\n\\]*)/.exec(log)?.[1] ?? '';
      const ports = /copy ports: ([^\n\\]*)/.exec(log)?.[1] ?? '';
      const target = (await rl.target.logLines()).slice(mark.target);
      const byAddress = new Map<string, number>();
      for (const l of target) byAddress.set(l.split(' ')[0]!, (byAddress.get(l.split(' ')[0]!) ?? 0) + 1);
      t.diagnostic(
        `online ${lag.online}, target ${lag.replicated} (${(lag.replicated / (100 * lag.online)).toFixed(5)} of 100×), ` +
          `lag ${lag.lagS.toFixed(3)} s; per address ${JSON.stringify([...byAddress])}; closed: ${closed}; copy ports: ${ports}`,
      );
      assert.equal(lag.online, 5 * 200);
      assert.ok(
        Math.abs(lag.replicated - 100 * lag.online) <= 0.001 * 100 * lag.online,
        `the target served ${lag.replicated} of ${100 * lag.online}\n${rl.diagnostics()}`,
      );
      assert.equal(byAddress.size, 5, 'every client address');
      assert.doesNotMatch(closed, /replaced/);
      assert.match(ports, /none free 0$/);
    } finally {
      await rl.destroy();
    }
  },
);
