// -c under load in the 4-host replication lab: 1,000 short connections from each of 5 client
// addresses (cli's own and 4 more on its eth0). With -c 10.77.200.0/24 (tgt routes the block via
// ast, as it does cli's address) every real client gets one address of the block for the whole run,
// and the target serves every request from those addresses only. With -c 10.77.200.9/32 the 5 clients
// fold onto one address: two of them on the same port would share a 4-tuple on the target, so such a
// session moves to another port (src/tcpcopy/copy-ports.ts) and every request still arrives, with no
// session ended for another. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, SPLIT_CPUS, allowedCpus, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const splitCpus = [...new Set(Object.values(SPLIT_CPUS))];
const skip = !isRoot
  ? 'needs root'
  : splitCpus.every((c) => allowedCpus().includes(c))
    ? false
    : `needs CPUs ${splitCpus.join(' and ')}`;
const EXTRA = ['10.77.0.21', '10.77.0.22', '10.77.0.23', '10.77.0.24'];
const PER_ADDRESS = 1000;

async function rewritten(t: test.TestContext, block: string): Promise<Map<string, number>> {
  const rl = await ReplicationLab.create({ service: 'nginx', cpus: 'split', tcpcopyArgs: ['-c', block] });
  try {
    for (const a of EXTRA) await rl.cli.exec('ip', ['addr', 'add', `${a}/24`, 'dev', rl.cli.ifname]);
    await rl.tgt.addRoute('10.77.200.0/24', rl.ast.ip);
    const mark = await markLogs(rl);
    const client = rl.cli.spawn(process.execPath, [
      join(packageRoot(), 'dist', 'test', 'replicate', 'short-clients.js'),
      `http://${rl.onl.ip}/`,
      String(PER_ADDRESS),
      rl.cli.ip,
      ...EXTRA,
    ]);
    const w = watchProcess(client);
    assert.equal(await w.exited, 0, w.text());
    const lag = await measureLag(rl, { since: mark, timeoutMs: 60_000, quietMs: 1_500 });
    const { tcpcopy } = await rl.stop();
    const log = tcpcopy?.log ?? '';
    const closed = /closed: ([^\n\\]*)/.exec(log)?.[1] ?? '';
    const target = (await rl.target.logLines()).slice(mark.target);
    const byAddress = new Map<string, number>();
    for (const l of target) byAddress.set(l.split(' ')[0]!, (byAddress.get(l.split(' ')[0]!) ?? 0) + 1);
    t.diagnostic(
      `-c ${block}: online ${lag.online}, target ${lag.replicated}, lag ${lag.lagS.toFixed(3)} s; ` +
        `addresses ${JSON.stringify([...byAddress])}; closed: ${closed}`,
    );
    assert.equal(lag.online, 5 * PER_ADDRESS);
    assert.ok(lag.replicated >= 0.999 * lag.online, `the target served ${lag.replicated}\n${rl.diagnostics()}`);
    assert.ok(lag.replicated <= lag.online, 'no request twice');
    for (const a of byAddress.keys()) assert.match(a, /^10\.77\.200\.\d+$/, 'only rewritten addresses');
    assert.doesNotMatch(closed, /replaced/, 'no session ended for another on its 4-tuple');
    return byAddress;
  } finally {
    await rl.destroy();
  }
}

test(
  '-c 10.77.200.0/24 under load from 5 clients: every request, from 5 rewritten addresses only',
  { skip, timeout: 180_000 },
  async (t) => {
    const byAddress = await rewritten(t, '10.77.200.0/24');
    assert.equal(byAddress.size, 5, 'each real client keeps one rewritten address');
    for (const n of byAddress.values()) assert.ok(n >= 0.999 * PER_ADDRESS, `a client's requests: ${n}`);
  },
);

test(
  '-c 10.77.200.9/32: 5 clients folded onto one address, every request, none ended for another',
  { skip, timeout: 180_000 },
  async (t) => {
    const byAddress = await rewritten(t, '10.77.200.9/32');
    assert.deepEqual([...byAddress.keys()], ['10.77.200.9']);
  },
);
