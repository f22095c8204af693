// Misrouting diagnosis end to end: the deployment mistakes that send the target's replies
// past intercept are named in tcpcopy's log, with the fixing command, within 10 s of traffic —
// the target's route via the assistant removed, an intercept filter that does not match the
// replies, and IP forwarding left on at the assistant. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, pollUntil } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && 'needs root';

/** Sends one request every 200 ms until `done()` or `ms` passes; resolves with the elapsed ms. */
async function trafficUntil(rl: ReplicationLab<'nginx'>, done: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!done() && Date.now() - t0 < ms) {
    await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 1, maxTimeS: 2 });
    await new Promise((r) => setTimeout(r, 200));
  }
  return Date.now() - t0;
}

test(
  'the target without a route via the assistant: tcpcopy names it within 10 s',
  { skip, timeout: 90_000 },
  async () => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    try {
      await rl.tgt.exec('ip', ['route', 'del', `${rl.cli.ip}/32`]);
      const said = (): boolean =>
        /diagnosis from intercept [\d.]+:36524: the target's replies do not pass this host/.test(rl.tcpcopyLog());
      const ms = await trafficUntil(rl, said, 12_000);
      assert.ok(said(), `not diagnosed after ${ms} ms\n${rl.diagnostics()}`);
      assert.ok(ms <= 10_000, `diagnosed after ${ms} ms`);
      assert.match(
        rl.tcpcopyLog(),
        new RegExp(`ip route add ${rl.cli.ip.replace(/\./g, '\\.')}/32 via ${rl.ast.ip.replace(/\./g, '\\.')}`),
      );
      assert.match(rl.interceptLog(), /\[warn\] diagnosis: the target's replies do not pass this host/);
      // Once per intercept (not per channel connection), and no generic hint next to it.
      assert.equal(rl.tcpcopyLog().split('do not pass this host').length - 1, 1, rl.tcpcopyLog());
      assert.doesNotMatch(rl.tcpcopyLog(), /got no SYN-ACK back/);
    } finally {
      await rl.destroy();
    }
  },
);

test('an intercept filter that does not match the replies: tcpcopy names it', { skip, timeout: 90_000 }, async () => {
  const rl = await ReplicationLab.create({ service: 'nginx', interceptArgs: ['-F', 'tcp and src port 9999'] });
  try {
    const said = (): boolean => /does not match the target's replies/.test(rl.tcpcopyLog());
    const ms = await trafficUntil(rl, said, 12_000);
    assert.ok(said(), `not diagnosed after ${ms} ms\n${rl.diagnostics()}`);
    assert.match(rl.tcpcopyLog(), /filter "tcp and src port 9999" does not match .* -F 'tcp and src port 8080'/);
  } finally {
    await rl.destroy();
  }
});

test('IP forwarding on at the assistant: tcpcopy names it', { skip, timeout: 90_000 }, async () => {
  const rl = await ReplicationLab.create({ service: 'nginx' });
  try {
    await rl.ast.sysctl('net.ipv4.ip_forward', 1);
    const said = (): boolean => /IP forwarding is on on this host \(net\.ipv4\.ip_forward = 1\)/.test(rl.tcpcopyLog());
    const ms = await trafficUntil(rl, said, 12_000);
    assert.ok(said(), `not diagnosed after ${ms} ms\n${rl.diagnostics()}`);
    assert.match(rl.tcpcopyLog(), /sysctl -w net\.ipv4\.ip_forward=0/);
  } finally {
    await rl.destroy();
  }
});

test('a correct deployment draws no diagnosis', { skip, timeout: 90_000 }, async () => {
  const rl = await ReplicationLab.create({ service: 'nginx' });
  try {
    await trafficUntil(rl, () => false, 8000);
    assert.ok(await pollUntil(async () => (await rl.target.logLines()).length > 0, 5000));
    assert.doesNotMatch(rl.tcpcopyLog(), /diagnosis/);
    assert.doesNotMatch(rl.interceptLog(), /diagnosis/);
  } finally {
    await rl.destroy();
  }
});
