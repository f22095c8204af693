// Live replication over IPv6, in the replication lab with `ipv6: true` — cli talks
// to onl's fd77:: address, tcpcopy copies to tgt's (`-x 80-[tgt6]:8080`), tgt routes its replies to
// cli's IPv6 address via ast, intercept captures them there (the channel runs over IPv6 too).
// Checked like the IPv4 acceptance: target/online log lines (50 of 50 for curl, ≥ 0.999 for ab),
// cli's IPv6 address on every target line, no frame from tgt at cli, clean stops. Also: IPv4
// requests to the dual-stack online server are neither copied nor fatal, and the lab's leak
// counter does see tgt's IPv6 frames when ast forwards them. The lab tests need root.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab } from '../lab/index.js';
import type { ProcessSummary } from '../lab/index.js';
import { parseTransfers } from '../../src/cli/options/index.js';
import { buildTargetResolver } from '../../src/tcpcopy/index.js';
import { MIN_RATIO, tailFrom, waitForCatchUp } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 20_000;

/** `^<ip> <port> "GET / HTTP/1.x" 200 ` for an IPv6 address as nginx writes it ($remote_addr: RFC 5952). */
function requestLine(ip: string): RegExp {
  return new RegExp(`^${ip.replace(/[.:]/g, '\\$&')} \\d+ "GET / HTTP/1\\.[01]" 200 `);
}

/**
 * The IPv6 form of the shared acceptance check: target/online ≥ MIN_RATIO (never more on the
 * target), every target line from cli's IPv6 address, no frame from tgt at cli, both processes
 * stopped cleanly with their summaries, no send error. Returns tcpcopy's summary.
 */
async function checkIpv6Replication(
  t: TestContext,
  rl: ReplicationLab<'nginx'>,
  name: string,
): Promise<ProcessSummary> {
  const onlineLines = await rl.online.logLines();
  const targetLines = await waitForCatchUp(rl, onlineLines.length);
  const ratio = targetLines.length / onlineLines.length;
  const leaked = await rl.leakedFrames();
  const { tcpcopy, intercept } = await rl.stop();
  assert.ok(tcpcopy?.summary, `tcpcopy printed no summary\n${rl.diagnostics()}`);
  const s = tcpcopy.summary;
  t.diagnostic(
    `${name}: online ${onlineLines.length} target ${targetLines.length} ratio ${ratio.toFixed(4)} leaked ${leaked}; tcpcopy conns ${s.get('conns')} syn cnt ${s.get('syn cnt')} for no syn ${s.get('for no syn')} capture dropped ${s.get('capture dropped')} send errors ${s.get('send errors')} retransmit ${s.get('retransmit')}`,
  );
  const summaries = `--- tcpcopy summary:\n${tailFrom(tcpcopy.log, 'tcpcopy summary')}\n--- intercept summary:\n${tailFrom(intercept.log, 'intercept summary')}`;
  // The online server saw the load over IPv6 (otherwise this test would prove nothing about v6).
  const fromCli = requestLine(rl.cli.ip6);
  assert.equal(
    onlineLines.filter((l) => !fromCli.test(l)).length,
    0,
    `online lines not from ${rl.cli.ip6}: ${onlineLines.slice(0, 3).join(' | ')}`,
  );
  assert.ok(
    targetLines.length <= onlineLines.length,
    `target saw more requests (${targetLines.length}) than online (${onlineLines.length})`,
  );
  assert.ok(
    ratio >= MIN_RATIO,
    `${name}: target/online = ${targetLines.length}/${onlineLines.length} = ${ratio.toFixed(4)} < ${MIN_RATIO}\n${summaries}`,
  );
  const foreign = targetLines.filter((l) => !fromCli.test(l));
  assert.equal(foreign.length, 0, `target lines not from ${rl.cli.ip6}: ${foreign.slice(0, 5).join(' | ')}`);
  assert.equal(leaked, 0, 'cli received frames from tgt');
  assert.equal(tcpcopy.exitCode, 0, summaries);
  assert.equal(intercept.exitCode, 0, summaries);
  assert.equal(s.get('send errors'), 0, summaries);
  return s;
}

test(
  "IPv6: 50 sequential curl requests are replicated with cli's IPv6 address",
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', ipv6: true });
    try {
      assert.equal(rl.onlineUrl(), `http://[${rl.onl.ip6}]/`);
      assert.equal(rl.addressOf(rl.cli), rl.cli.ip6);
      // tcpcopy got the v6 transfer and channel address; intercept captures tgt's v6 replies.
      const codes: number[] = [];
      for (let i = 0; i < 50; i++) codes.push(...(await rl.cli.curl(rl.onlineUrl(), { count: 1 })));
      assert.equal(codes.length, 50);
      assert.ok(
        codes.every((c) => c === 200),
        `online statuses: ${codes.join(',')}`,
      );
      const onlineLines = await rl.online.logLines();
      assert.equal(onlineLines.length, 50);
      const s = await checkIpv6Replication(t, rl, 'curl x50 (IPv6)');
      // Exactly 50 of 50, each a client connection copied from its SYN.
      assert.equal((await rl.target.logLines()).length, 50);
      const ports = (lines: string[]): string[] => lines.map((l) => l.split(' ')[1] ?? '').sort();
      assert.deepEqual(ports(await rl.target.logLines()), ports(onlineLines));
      assert.equal(s.get('syn cnt'), 50);
      assert.equal(s.get('conns'), 50);
      assert.equal(s.get('for no syn'), 0);
    } finally {
      await rl.destroy();
    }
  },
);

test(
  'IPv6: ab -k -c20 -n20000 keep-alive requests are replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', ipv6: true });
    try {
      const r = await rl.cli.ab({
        url: rl.onlineUrl(),
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: true,
        timeLimitS: 60,
      });
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal(r.keepAliveRequests, REQUESTS);
      assert.equal((await rl.online.logLines()).length, REQUESTS);
      const s = await checkIpv6Replication(t, rl, 'ab -k -c20 (IPv6)');
      assert.equal(s.get('syn cnt'), 20);
      assert.equal(s.get('conns'), 20);
    } finally {
      await rl.destroy();
    }
  },
);

test("a global-port transfer resolves only requests of its target's family", () => {
  const r = buildTargetResolver(parseTransfers('80-[fd77::3]:8080,81-10.77.0.3:8081,[fd77::2]:82-[fd77::3]:8082'));
  assert.deepEqual(r('fd77::2', 80), { ip: 'fd77::3', port: 8080 });
  assert.equal(r('10.77.0.2', 80), undefined);
  assert.deepEqual(r('10.77.0.2', 81), { ip: '10.77.0.3', port: 8081 });
  assert.equal(r('fd77::2', 81), undefined);
  assert.deepEqual(r('fd77::2', 82), { ip: 'fd77::3', port: 8082 });
  assert.equal(r('fd77::9', 82), undefined);
});

// With the auto filter the IPv4 requests are not even captured; with -F capturing both families
// they reach the engine, whose resolver must drop them (they used to kill tcpcopy: an IPv4 copy
// cannot carry the IPv6 target address).
for (const userFilter of [null, 'tcp and dst port 80'] as const) {
  const how = userFilter === null ? 'the auto filter' : `-F '${userFilter}'`;
  test(
    `IPv6: IPv4 requests to the dual-stack online server are not copied, and tcpcopy keeps running (${how})`,
    { skip: !isRoot && 'needs root', timeout: 120_000 },
    async () => {
      const rl = await ReplicationLab.create({
        service: 'nginx',
        ipv6: true,
        tcpcopyArgs: userFilter === null ? [] : ['-F', userFilter],
      });
      try {
        // onl's nginx listens on both families; -x 80-[tgt6]:8080 copies only the IPv6 requests.
        const codes = [
          ...(await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 3 })),
          ...(await rl.cli.curl(rl.onlineUrl(), { count: 4 })),
          ...(await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 2 })),
        ];
        assert.deepEqual(codes, Array<number>(9).fill(200));
        const online = await rl.online.logLines();
        assert.equal(online.length, 9);
        assert.equal(online.filter((l) => l.startsWith(`${rl.cli.ip} `)).length, 5);
        const target = await rl.waitForTarget(4, 10_000);
        assert.equal(target.length, 4, rl.diagnostics());
        for (const l of target) assert.match(l, requestLine(rl.cli.ip6));
        assert.equal(await rl.leakedFrames(), 0);
        const { tcpcopy, intercept } = await rl.stop();
        assert.ok(tcpcopy?.summary, rl.diagnostics());
        assert.ok(
          tcpcopy.log.includes(`capturing on eth0 with filter "${userFilter ?? 'tcp and ip6 and dst port 80'}"`),
          tcpcopy.log,
        );
        assert.equal(tcpcopy.exitCode, 0, tcpcopy.log);
        assert.equal(intercept.exitCode, 0, intercept.log);
        // One IPv6 connection (curl's 4 requests share it); no IPv4 SYN reached a session.
        assert.equal(tcpcopy.summary.get('syn cnt'), 1, tcpcopy.log);
        assert.equal(tcpcopy.summary.get('send errors'), 0, tcpcopy.log);
      } finally {
        await rl.destroy();
      }
    },
  );
}

test(
  "IPv6: the leak counter sees tgt's IPv6 replies once ast forwards them",
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async () => {
    const rl = await ReplicationLab.create({ service: 'nginx', ipv6: true });
    try {
      assert.deepEqual(await rl.cli.curl(rl.onlineUrl(), { count: 1 }), [200]);
      await rl.waitForTarget(1, 10_000);
      assert.equal(await rl.leakedFrames(), 0, 'no leak while ast drops the replies');
      // The control: with forwarding on, ast routes tgt's replies on to cli, which must be counted.
      await rl.ast.sysctl('net.ipv6.conf.all.forwarding', 1);
      assert.deepEqual(await rl.cli.curl(rl.onlineUrl(), { count: 1 }), [200]);
      await rl.waitForTarget(2, 10_000);
      assert.ok((await rl.leakedFrames(500)) > 0, `no leaked frame counted\n${rl.diagnostics()}`);
    } finally {
      await rl.destroy();
    }
  },
);

test(
  'IPv6: ab -c20 -n20000 short connections are replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', ipv6: true });
    try {
      const r = await rl.cli.ab({
        url: rl.onlineUrl(),
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: false,
        timeLimitS: 60,
      });
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal((await rl.online.logLines()).length, REQUESTS);
      const s = await checkIpv6Replication(t, rl, 'ab -c20 short (IPv6)');
      // One client connection per request, each seen from its SYN (ab may open up to one more per
      // concurrency slot near the end and close it unused).
      const syns = s.get('syn cnt');
      assert.ok(syns >= REQUESTS && syns <= REQUESTS + 20, `syn cnt ${syns}`);
      assert.equal(s.get('conns'), syns);
      assert.equal(s.get('for no syn'), 0);
    } finally {
      await rl.destroy();
    }
  },
);
