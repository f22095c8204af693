// Live replication end to end in the 4-host replication lab: curl (cli) → nginx on onl:80, copied
// by tcpcopy on onl to nginx on tgt:8080 with cli's address kept; tgt routes its replies to cli via
// ast, where intercept captures them (ast does not forward) and returns their headers to tcpcopy.
// Checked: every online request reaches the target, with the real client address, and cli never
// receives a packet from tgt; both processes stop on SIGTERM with their final summaries. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab } from '../lab/index.js';

const isRoot = process.getuid?.() === 0;

test(
  'curl traffic to onl:80 is replicated to tgt:8080 with the client address kept',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async () => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    try {
      const { cli, onl } = rl;
      // 30 requests on one keep-alive connection, then 20 one-request connections.
      const codes = await cli.curl(`http://${onl.ip}/`, { count: 30 });
      for (let i = 0; i < 20; i++) codes.push(...(await cli.curl(`http://${onl.ip}/`, { count: 1 })));
      assert.equal(codes.length, 50);
      assert.ok(
        codes.every((c) => c === 200),
        `online statuses: ${codes.join(',')}`,
      );
      const onlineLines = await rl.online.logLines();
      assert.equal(onlineLines.length, 50);
      const targetLines = await rl.waitForTarget(onlineLines.length, 10_000);
      assert.equal(targetLines.length, 50, `target saw ${targetLines.length}/50 requests\n${rl.diagnostics()}`);
      for (const l of targetLines)
        assert.match(l, new RegExp(`^${cli.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.1" 200 `));
      // The same client ports on both servers: the sessions were copied one for one.
      const ports = (lines: string[]): string[] => lines.map((l) => l.split(' ')[1] ?? '').sort();
      assert.deepEqual(ports(targetLines), ports(onlineLines));
      assert.equal(await rl.leakedFrames(), 0, 'cli received packets from tgt');

      const { tcpcopy, intercept } = await rl.stop();
      assert.ok(tcpcopy);
      assert.equal(tcpcopy.exitCode, 0, tcpcopy.log);
      assert.match(tcpcopy.log, /\[notice\] tcpcopy summary after [\d.]+ s:/);
      const t = tcpcopy.summary;
      assert.ok(t, tcpcopy.log);
      assert.ok(t.get('send content') >= 50, `sent content: ${t.get('send content')}`);
      // 21 client connections (1 keep-alive + 20), each established with the target.
      assert.equal(t.get('conns'), 21, tcpcopy.log);
      assert.equal(t.get('syn cnt'), 21, tcpcopy.log);
      assert.equal(t.get('send errors'), 0, tcpcopy.log);
      assert.equal(intercept.exitCode, 0, intercept.log);
      assert.match(intercept.log, /\[notice\] intercept summary after [\d.]+ s:/);
      const i = intercept.summary;
      assert.ok(i, intercept.log);
      assert.ok(i.get('cache hit') > 0, intercept.log);
      assert.equal(
        i.get('cache hit') + i.get('missed') + i.get('merged replies'),
        i.get('total resp packs'),
        'every captured reply is a hit, a miss or folded into the one before',
      );
    } finally {
      await rl.destroy();
    }
  },
);
