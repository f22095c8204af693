// netem on a lab host: delay, jitter and loss change what other hosts measure, and clearNetem restores
// the link (through tc netem, or the NFQUEUE fallback on kernels without sch_netem). Needs root.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab } from './index.js';
import type { LabHost } from './index.js';

/** Individual ping RTTs in ms. */
async function pingRtts(from: LabHost, to: string, count: number): Promise<number[]> {
  const r = await from.exec('ping', ['-c', String(count), '-i', '0.02', '-W', '2', to], { check: false });
  return [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

/** TCP connect times in ms (curl's time_connect), one connection each. */
async function connectTimes(from: LabHost, url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = await from.exec('curl', ['-s', '-o', '/dev/null', '--max-time', '5', '-w', '%{time_connect}', url]);
    out.push(Number(r.stdout) * 1000);
  }
  return out;
}

void describe('netem', () => {
  let lab: Lab;
  let cli: LabHost;
  let onl: LabHost;

  before(async () => {
    lab = await Lab.create({ hosts: ['cli', 'onl'] });
    cli = lab.host('cli');
    onl = lab.host('onl');
    await onl.startNginx({ port: 80, accessLog: false });
  });
  after(async () => {
    await lab.destroy();
  });

  void test('a 20 ms delay raises RTT and TCP connect time by at least 20 ms; clearNetem restores them', async () => {
    const base = await pingRtts(cli, onl.ip, 5);
    assert.equal(base.length, 5);
    assert.ok(Math.max(...base) < 5, `baseline ${base.join(',')}`);

    const backend = await lab.setNetem(onl, { delayMs: 20 });
    assert.ok(backend === 'tc-netem' || backend === 'nfqueue');
    const v4 = await pingRtts(cli, onl.ip, 5);
    assert.equal(v4.length, 5);
    assert.ok(Math.min(...v4) >= 20 && Math.max(...v4) < 60, `v4 ${v4.join(',')}`);
    const v6 = await pingRtts(cli, onl.ip6, 5);
    assert.equal(v6.length, 5);
    assert.ok(Math.min(...v6) >= 20, `v6 ${v6.join(',')}`);
    const conn = await connectTimes(cli, `http://${onl.ip}/`, 3);
    assert.ok(Math.min(...conn) >= 20, `connect ${conn.join(',')}`);
    // Only what onl sends is delayed, so its own pings to cli are delayed on the way out.
    const rev = await pingRtts(onl, cli.ip, 3);
    assert.ok(Math.min(...rev) >= 20, `reverse ${rev.join(',')}`);

    // Replacing the setting takes effect (no stacking).
    await lab.setNetem(onl, { delayMs: 5 });
    const five = await pingRtts(cli, onl.ip, 5);
    assert.ok(Math.min(...five) >= 5 && Math.max(...five) < 20, `5 ms ${five.join(',')}`);

    await lab.clearNetem(onl);
    const after = await pingRtts(cli, onl.ip, 5);
    assert.equal(after.length, 5);
    assert.ok(Math.max(...after) < 5, `after clear ${after.join(',')}`);
    const connAfter = await connectTimes(cli, `http://${onl.ip}/`, 3);
    assert.ok(Math.max(...connAfter) < 10, `connect after clear ${connAfter.join(',')}`);
    await lab.clearNetem(onl); // clearing twice is fine
  });

  void test('jitter keeps RTTs within delay ± jitter', async () => {
    await lab.setNetem(onl, { delayMs: 20, jitterMs: 10 });
    const r = await pingRtts(cli, onl.ip, 20);
    assert.equal(r.length, 20);
    assert.ok(Math.min(...r) >= 10 && Math.max(...r) < 45, `jitter ${r.join(',')}`);
    assert.ok(Math.max(...r) - Math.min(...r) > 2, `no spread: ${r.join(',')}`);
    await lab.clearNetem(onl);
  });

  void test('100 % loss drops everything onl sends; 0 % loss after clearNetem', async () => {
    await lab.setNetem(onl, { lossPct: 100 });
    const r = await cli.exec('ping', ['-c', '3', '-i', '0.1', '-W', '1', onl.ip], { check: false });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /3 packets transmitted, 0 received/);
    await lab.clearNetem(onl);
    assert.equal((await pingRtts(cli, onl.ip, 3)).length, 3);
  });

  void test('bad netem arguments are refused', async () => {
    await assert.rejects(lab.setNetem(onl, { lossPct: 150 }), /lossPct out of range/);
    await assert.rejects(lab.setNetem(onl, { jitterMs: 5 }), /jitterMs needs delayMs/);
  });
});
