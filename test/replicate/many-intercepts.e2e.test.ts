// Many-to-many: one tcpcopy into two intercepts sharded by -F on the client port parity.
// Topology: cli1 and cli2 load nginx on onl; tcpcopy on onl copies to tgt:8080 and registers every
// session with both ast1 and ast2. tgt routes its replies for the clients via the lab's flood hop
// (a next hop whose MAC nobody owns), so the bridge delivers every reply frame to every port and
// both assistants see all of them; ast1 captures only replies to even client ports
// (`tcp[2:2] & 1 = 0`), ast2 only odd ones. Linux's connect() takes ports of the parity of the
// range's low end, so cli1 gets an even-low range and cli2 an odd-low one (ab then loads with both
// parities at once); besides, cli1 makes curl connections from fixed ports of both parities.
// Checked: per parity shard target/online ≥ 0.999, each intercept relayed replies, together no
// more than tcpcopy received (no reply relayed twice), no misrouted registration, nothing from tgt
// reached a client's MAC. Needs root (the pure helpers are checked without).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultiLab, dstPortParityFilter, portRangeFor, pollUntilSettled } from '../lab/index.js';
import type { LabHost, PortParity } from '../lab/index.js';
import { MIN_RATIO, tailFrom } from './http-replication.js';

const isRoot = process.getuid?.() === 0;

test('dstPortParityFilter reads the TCP destination port parity', () => {
  assert.equal(dstPortParityFilter('even'), 'tcp[2:2] & 1 = 0');
  assert.equal(dstPortParityFilter('odd'), 'tcp[2:2] & 1 = 1');
});

test('portRangeFor puts a port of the parity at the low end', () => {
  assert.equal(portRangeFor('even'), '32768 60999');
  assert.equal(portRangeFor('odd'), '32769 60999');
  assert.equal(portRangeFor('even', 40001, 50000), '40002 50000');
  assert.equal(portRangeFor('odd', 40001, 50000), '40001 50000');
  assert.throws(() => portRangeFor('odd', 100, 50000), /bad port range/);
});

const AB_REQUESTS = 4000;
/** cli1's curl connections from fixed local ports, both parities. */
const FIXED_PORTS = Array.from({ length: 20 }, (_, i) => 41_000 + i);

function parityOf(port: number): PortParity {
  return port % 2 === 0 ? 'even' : 'odd';
}

/** `addr port "GET ..." ...` access log lines → count per client-port parity. */
function byParity(lines: readonly string[]): Record<PortParity, number> {
  const out = { even: 0, odd: 0 };
  for (const l of lines) out[parityOf(Number(l.split(' ')[1]))]++;
  return out;
}

test(
  'one tcpcopy into two intercepts sharded by client port parity: each shard replicated',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const ml = await MultiLab.create(['cli1', 'cli2', 'onl', 'tgt', 'ast1', 'ast2'], { serverHosts: ['onl', 'tgt'] });
    try {
      const [cli1, cli2, onl, tgt, ast1, ast2] = ['cli1', 'cli2', 'onl', 'tgt', 'ast1', 'ast2'].map((h) =>
        ml.host(h),
      ) as [LabHost, LabHost, LabHost, LabHost, LabHost, LabHost];
      const online = await onl.startNginx({ port: 80 });
      const target = await tgt.startNginx({ port: 8080 });
      await ml.useClientPortParity(cli1, 'even');
      await ml.useClientPortParity(cli2, 'odd');
      await ml.routeViaFloodHop(tgt, [cli1, cli2]);
      const leaks = await Promise.all(
        [cli1, cli2].map((c) => ml.countFrames(c, `ip and src host ${tgt.ip} and ether dst ${c.mac}`)),
      );
      const replies = `tcp and src host ${tgt.ip} and src port 8080`;
      const shards = [
        await ml.startIntercept(ast1, { filter: `${replies} and ${dstPortParityFilter('even')}` }),
        await ml.startIntercept(ast2, { filter: `${replies} and ${dstPortParityFilter('odd')}` }),
      ];
      const tcpcopy = await ml.startTcpcopy(onl, { transfer: `80-${tgt.ip}:8080`, intercepts: [ast1, ast2] });

      const url = `http://${onl.ip}/`;
      cli1.assertLabUrl(url);
      for (const port of FIXED_PORTS) {
        const r = await cli1.exec(
          'curl',
          ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--local-port', String(port), '--max-time', '10', url],
          { timeoutMs: 15_000 },
        );
        assert.equal(r.stdout, '200', `curl from port ${port}`);
      }
      for (const keepAlive of [false, true]) {
        const runs = await Promise.all(
          [cli1, cli2].map((c) => c.ab({ url, concurrency: 20, requests: AB_REQUESTS, keepAlive, timeLimitS: 60 })),
        );
        for (const r of runs) assert.equal(r.failed, 0, `ab ${keepAlive ? '-k ' : ''}failures`);
      }
      const onlineLines = await online.logLines();
      assert.equal(onlineLines.length, FIXED_PORTS.length + 4 * AB_REQUESTS, 'online requests');
      const want = byParity(onlineLines);
      t.diagnostic(`online by client port parity: even ${want.even} odd ${want.odd}`);
      assert.ok(want.even > 0 && want.odd > 0, 'the load used client ports of both parities');
      await pollUntilSettled(async () => (await target.logLines()).length, 30_000, 2000);
      const targetLines = await target.logLines();
      const got = byParity(targetLines);
      const leaked = leaks.map((l) => l.frames);

      await ml.stopAll();
      const tc = await tcpcopy.stop();
      const ic = await Promise.all(shards.map((s) => s.stop()));
      const summaries = `--- tcpcopy:\n${tailFrom(tc.log, 'tcpcopy summary')}\n${ic.map((s, i) => `--- intercept ast${i + 1}:\n${tailFrom(s.log, 'intercept summary')}`).join('\n')}`;
      assert.ok(tc.summary, `tcpcopy printed no summary\n${ml.diagnostics()}`);
      t.diagnostic(
        `target by parity: even ${got.even}/${want.even} odd ${got.odd}/${want.odd}; tcpcopy conns ${tc.summary.get('conns')} resp ${tc.summary.get('resp')} for no syn ${tc.summary.get('for no syn')} capture dropped ${tc.summary.get('capture dropped')}; leaked ${leaked.join('/')}`,
      );
      const routed: number[] = [];
      for (const [i, s] of ic.entries()) {
        assert.ok(s.summary, `intercept on ast${i + 1} printed no summary\n${summaries}`);
        t.diagnostic(
          `ast${i + 1}: total resp packs ${s.summary.get('total resp packs')} route ${s.summary.get('route')} registered ${s.summary.get('registered')} missed ${s.summary.get('missed')} misrouted ${s.summary.get('misrouted')} capture dropped ${s.summary.get('capture dropped')}`,
        );
        assert.equal(s.exitCode, 0, summaries);
        assert.equal(s.summary.get('misrouted'), 0, summaries);
        assert.equal(s.summary.get('foreign unregistrations'), 0, summaries);
        // Every session is registered with both intercepts.
        assert.ok(
          s.summary.get('registered') >= tc.summary.get('syn cnt'),
          `ast${i + 1} registered ${s.summary.get('registered')} < ${tc.summary.get('syn cnt')} sessions\n${summaries}`,
        );
        assert.ok(s.summary.get('route') > 0, `ast${i + 1} relayed nothing\n${summaries}`);
        routed.push(s.summary.get('route'));
      }
      // Each reply went back through exactly one shard: both together relayed about what tcpcopy
      // matched to its sessions, not twice as much. (`resp` leaves out replies for sessions that had
      // already ended — a late ACK after our RST — and what arrived after tcpcopy stopped reading:
      // a few dozen in 56k, so the bound has a 1 % margin; a reply relayed by both shards would double.)
      const lost = ic.reduce((n, s) => n + (s.summary?.get('lost') ?? 0), 0);
      const bound = Math.ceil((tc.summary.get('resp') + lost) * 1.01);
      assert.ok(
        (routed[0] ?? 0) + (routed[1] ?? 0) <= bound,
        `routed ${routed.join('+')} > ${bound} (resp ${tc.summary.get('resp')} + lost ${lost}, +1 %)\n${summaries}`,
      );

      assert.equal(tc.exitCode, 0, summaries);
      assert.equal(tc.summary.get('send errors'), 0, summaries);
      for (const p of ['even', 'odd'] as const) {
        assert.ok(got[p] <= want[p], `${p}: target ${got[p]} > online ${want[p]}`);
        assert.ok(
          got[p] / want[p] >= MIN_RATIO,
          `${p} shard: target/online = ${got[p]}/${want[p]} < ${MIN_RATIO}\n${summaries}`,
        );
      }
      const targetPorts = new Set(
        targetLines.filter((l) => l.startsWith(`${cli1.ip} `)).map((l) => Number(l.split(' ')[1])),
      );
      assert.deepEqual(
        FIXED_PORTS.filter((p) => !targetPorts.has(p)),
        [],
        'every fixed-port curl connection of both parities replicated',
      );
      const clients = new Set(targetLines.map((l) => l.split(' ')[0]));
      assert.deepEqual([...clients].sort(), [cli1.ip, cli2.ip].sort(), 'target clients are cli1 and cli2');
      assert.deepEqual(leaked, [0, 0], 'a client received frames from tgt');
    } finally {
      await ml.destroy();
    }
  },
);
