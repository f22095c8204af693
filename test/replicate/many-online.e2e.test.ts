// Many-to-many: two online hosts, each with its own tcpcopy, into one intercept. cli loads
// onl1 and onl2 at the same time; tcpcopy on onl1 copies to tgt:A, tcpcopy on onl2 to tgt:B (one
// target host, two target servers, so each copy can be checked against its own online server); tgt
// routes its replies for cli via ast, where a single intercept relays each reply to the tcpcopy that
// registered its session. Checked per online host: target/online ≥ 0.999 (nginx: access log lines;
// redis: command calls, keyspace digest and DEBUG DIGEST equal), every target client is cli, no
// frame from tgt reaches cli, and intercept's own summary line shows no registration taken over
// between the two tcpcopy instances (misrouted:0) and no foreign unregistration. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { MultiLab, redisBenchmark, keyspaceDigest, commandCalls, pollUntil, pollUntilSettled } from '../lab/index.js';
import type { LabHost, LabProcess, NginxServer, RedisServer, StoppedProcess, FrameCounter } from '../lab/index.js';
import { MIN_RATIO, tailFrom } from './http-replication.js';

const isRoot = process.getuid?.() === 0;

interface TwoOnline {
  ml: MultiLab;
  cli: LabHost;
  onl: [LabHost, LabHost];
  tgt: LabHost;
  ast: LabHost;
  intercept: LabProcess;
  tcpcopy: [LabProcess, LabProcess];
  leak: FrameCounter;
}

/** cli .1, onl1 .2, onl2 .3, tgt .4, ast .5; servers must be started by `servers` before tcpcopy. */
async function buildTwoOnline(
  onlinePort: number,
  targetPorts: [number, number],
  servers: (ml: MultiLab) => Promise<void>,
): Promise<TwoOnline> {
  const ml = await MultiLab.create(['cli', 'onl1', 'onl2', 'tgt', 'ast'], { serverHosts: ['onl1', 'onl2', 'tgt'] });
  try {
    const [cli, onl1, onl2, tgt, ast] = ['cli', 'onl1', 'onl2', 'tgt', 'ast'].map((h) => ml.host(h)) as [
      LabHost,
      LabHost,
      LabHost,
      LabHost,
      LabHost,
    ];
    await servers(ml);
    await tgt.addRoute(`${cli.ip}/32`, ast.ip);
    const leak = await ml.countFrames(cli, `ip and src host ${tgt.ip} and ether dst ${cli.mac}`);
    const intercept = await ml.startIntercept(ast, {
      filter: `tcp and src host ${tgt.ip} and (src port ${targetPorts[0]} or src port ${targetPorts[1]})`,
    });
    const tcpcopy: LabProcess[] = [];
    for (const [i, onl] of [onl1, onl2].entries()) {
      tcpcopy.push(
        await ml.startTcpcopy(onl, { transfer: `${onlinePort}-${tgt.ip}:${targetPorts[i] ?? 0}`, intercepts: [ast] }),
      );
    }
    return { ml, cli, onl: [onl1, onl2], tgt, ast, intercept, tcpcopy: tcpcopy as [LabProcess, LabProcess], leak };
  } catch (e) {
    await ml.destroy();
    throw e;
  }
}

/** Stops both tcpcopy instances, then intercept; checks exits, no send errors, and intercept's routing line. */
async function stopAndCheck(
  t: TestContext,
  lab: TwoOnline,
): Promise<{ tcpcopy: StoppedProcess[]; intercept: StoppedProcess; summaries: string }> {
  await lab.ml.stopAll();
  const tcpcopy = await Promise.all(lab.tcpcopy.map((p) => p.stop()));
  const intercept = await lab.intercept.stop();
  const summaries = `${tcpcopy.map((s, i) => `--- tcpcopy onl${i + 1}:\n${tailFrom(s.log, 'tcpcopy summary')}`).join('\n')}\n--- intercept:\n${tailFrom(intercept.log, 'intercept summary')}`;
  const is = intercept.summary;
  assert.ok(is, `intercept printed no summary\n${lab.ml.diagnostics()}`);
  t.diagnostic(
    `intercept: registered ${is.get('registered')} route ${is.get('route')} cache hit ${is.get('cache hit')} missed ${is.get('missed')} lost ${is.get('lost')} misrouted ${is.get('misrouted')} foreign unregistrations ${is.get('foreign unregistrations')} capture dropped ${is.get('capture dropped')}`,
  );
  assert.equal(intercept.exitCode, 0, summaries);
  // The two instances never took over each other's sessions: every registration stayed with its owner.
  assert.equal(is.get('misrouted'), 0, summaries);
  assert.equal(is.get('foreign unregistrations'), 0, summaries);
  let registered = 0;
  for (const [i, s] of tcpcopy.entries()) {
    assert.ok(s.summary, `tcpcopy on onl${i + 1} printed no summary\n${summaries}`);
    t.diagnostic(
      `tcpcopy onl${i + 1}: conns ${s.summary.get('conns')} syn cnt ${s.summary.get('syn cnt')} resp ${s.summary.get('resp')} for no syn ${s.summary.get('for no syn')} capture dropped ${s.summary.get('capture dropped')} retransmit ${s.summary.get('retransmit')}`,
    );
    assert.equal(s.exitCode, 0, summaries);
    assert.equal(s.summary.get('send errors'), 0, summaries);
    assert.ok(s.summary.get('resp') > 0, `tcpcopy on onl${i + 1} got no replies\n${summaries}`);
    registered += s.summary.get('syn cnt');
  }
  // Each instance's replies came back through the one intercept: it saw both instances' sessions.
  assert.ok(
    is.get('registered') >= registered,
    `intercept registered ${is.get('registered')} < ${registered} sessions of both instances\n${summaries}`,
  );
  return { tcpcopy, intercept, summaries };
}

const NGINX_TARGET_PORTS: [number, number] = [8080, 8081];
const AB_REQUESTS = 4000;

test(
  'two online hosts with their own tcpcopy into one intercept: each replicated, no reply misrouted',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const online: NginxServer[] = [];
    const target: NginxServer[] = [];
    const lab = await buildTwoOnline(80, NGINX_TARGET_PORTS, async (ml) => {
      for (const h of ['onl1', 'onl2']) online.push(await ml.host(h).startNginx({ port: 80 }));
      for (const p of NGINX_TARGET_PORTS) target.push(await ml.host('tgt').startNginx({ port: p }));
    });
    try {
      const { cli, onl } = lab;
      // Both online hosts under load at once: short connections, then keep-alive.
      for (const keepAlive of [false, true]) {
        const runs = await Promise.all(
          onl.map((h) =>
            cli.ab({ url: `http://${h.ip}/`, concurrency: 20, requests: AB_REQUESTS, keepAlive, timeLimitS: 60 }),
          ),
        );
        for (const r of runs) assert.equal(r.failed, 0, `ab ${keepAlive ? '-k ' : ''}failures`);
      }
      const onlineLines = await Promise.all(online.map((s) => s.logLines()));
      for (const l of onlineLines) assert.equal(l.length, 2 * AB_REQUESTS, 'online requests');
      // cli used some client ports towards both online hosts: those sessions differ only in the target
      // port, so intercept's exact 4-tuple routing is what keeps their replies apart.
      const ports = onlineLines.map((ls) => new Set(ls.map((l) => l.split(' ')[1])));
      const shared = [...(ports[0] ?? [])].filter((p) => ports[1]?.has(p)).length;
      t.diagnostic(`client ports used towards both online hosts: ${shared}`);
      assert.ok(shared > 0, 'no client port was used towards both online hosts');
      const targetCounts = await Promise.all(
        target.map((s, i) =>
          pollUntilSettled(async () => (await s.logLines()).length, 30_000, 2000).then((n) => {
            t.diagnostic(
              `onl${i + 1}: online ${onlineLines[i]?.length} target ${n} ratio ${(n / (onlineLines[i]?.length ?? 1)).toFixed(4)}`,
            );
            return n;
          }),
        ),
      );
      const leaked = lab.leak.frames;
      const { summaries } = await stopAndCheck(t, lab);
      const fromCli = new RegExp(`^${cli.ip.replace(/\./g, '\\.')} \\d+ "GET / HTTP/1\\.[01]" 200 `);
      for (const [i, s] of target.entries()) {
        const n = targetCounts[i] ?? 0;
        const on = onlineLines[i]?.length ?? 0;
        assert.ok(n <= on, `target of onl${i + 1} saw more requests (${n}) than online (${on})`);
        assert.ok(n / on >= MIN_RATIO, `onl${i + 1}: target/online = ${n}/${on} < ${MIN_RATIO}\n${summaries}`);
        const foreign = (await s.logLines()).filter((l) => !fromCli.test(l));
        assert.deepEqual(foreign.slice(0, 5), [], `target :${s.port} lines not from cli`);
      }
      assert.equal(leaked, 0, 'cli received frames from tgt');
    } finally {
      await lab.ml.destroy();
    }
  },
);

const REDIS_COMMANDS = ['set', 'incr', 'lpush', 'hset'] as const;
const REDIS_TARGET_PORTS: [number, number] = [6379, 6380];
const REDIS_REQUESTS = 10_000;

async function debugDigest(server: RedisServer): Promise<string> {
  const r = await server.cli(['DEBUG', 'DIGEST']);
  assert.match(r, /^[0-9a-f]{40}$/, `DEBUG DIGEST answered ${JSON.stringify(r)}`);
  return r;
}

test(
  'redis: two online hosts with their own tcpcopy into one intercept, both datasets equal on the target',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const online: RedisServer[] = [];
    const target: RedisServer[] = [];
    const lab = await buildTwoOnline(6379, REDIS_TARGET_PORTS, async (ml) => {
      for (const h of ['onl1', 'onl2']) online.push(await ml.host(h).startRedis({ port: 6379 }));
      for (const p of REDIS_TARGET_PORTS) target.push(await ml.host('tgt').startRedis({ port: p }));
    });
    try {
      const { cli, onl } = lab;
      // Different key spaces, so the two datasets differ and a copy into the wrong target would show.
      await Promise.all(
        onl.map((h, i) =>
          redisBenchmark(cli, {
            host: h.ip,
            port: 6379,
            tests: REDIS_COMMANDS.join(','),
            requests: REDIS_REQUESTS,
            clients: 20,
            pipeline: 1 + 7 * i,
            keyspace: 500 * (i + 1),
            timeLimitS: 60,
          }),
        ),
      );
      const onlineDigests: string[] = [];
      for (const [i, s] of online.entries()) {
        const calls = await commandCalls(s);
        for (const c of REDIS_COMMANDS) assert.equal(calls.get(c), REDIS_REQUESTS, `onl${i + 1} ${c} calls`);
        onlineDigests.push(await keyspaceDigest(s));
      }
      assert.notEqual(onlineDigests[0], onlineDigests[1], 'the two online datasets differ');
      const caughtUp = await Promise.all(
        target.map((s, i) =>
          pollUntil(
            async () => {
              const calls = await commandCalls(s);
              if (!REDIS_COMMANDS.every((c) => calls.get(c) === REDIS_REQUESTS)) return false;
              return (await keyspaceDigest(s)) === onlineDigests[i];
            },
            30_000,
            250,
          ),
        ),
      );
      const targetCalls = await Promise.all(target.map((s) => commandCalls(s)));
      for (const [i, c] of targetCalls.entries())
        t.diagnostic(
          `onl${i + 1}: target calls ${REDIS_COMMANDS.map((k) => `${k}=${c.get(k) ?? 0}`).join(' ')}; caught up ${caughtUp[i]}`,
        );
      const leaked = lab.leak.frames;
      const { summaries } = await stopAndCheck(t, lab);
      for (const [i, s] of target.entries()) {
        assert.ok(caughtUp[i], `target :${s.port} (from onl${i + 1}) did not catch up\n${summaries}`);
        for (const c of REDIS_COMMANDS)
          assert.equal(targetCalls[i]?.get(c), REDIS_REQUESTS, `target :${s.port} ${c} calls`);
        const [od, td] = [await debugDigest(online[i] as RedisServer), await debugDigest(s)];
        assert.notEqual(od, '0'.repeat(40), 'the online dataset is not empty');
        assert.equal(td, od, `DEBUG DIGEST of target :${s.port} = onl${i + 1}'s`);
        assert.equal(await s.cli(['DBSIZE']), await (online[i] as RedisServer).cli(['DBSIZE']));
      }
      assert.equal(leaked, 0, 'cli received frames from tgt');
    } finally {
      await lab.ml.destroy();
    }
  },
);
