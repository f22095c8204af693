// Redis. Online and target redis-server (both :6379) start empty;
// redis-benchmark (SET, INCR, LPUSH, HSET; 20 clients; random keys) runs against onl, once without
// pipelining and once with -P 16, each in a fresh lab. Afterwards the target holds the same data as
// online: the same keyspace digest (and DEBUG DIGEST), the same number
// of keys, and exactly the same number of calls of each benchmarked command; every client the
// target saw came from cli's address, and no frame from tgt reached cli. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ReplicationLab, redisBenchmark, keyspaceDigest, commandCalls, pollUntil } from '../lab/index.js';
import type { RedisServer } from '../lab/index.js';
import { tailFrom } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 20_000;
const CLIENTS = 20;
const KEYSPACE = 1000;
const COMMANDS = ['set', 'incr', 'lpush', 'hset'] as const;

/** The client addresses (ip only) of `CLIENT LIST`, leaving out the connection asking. */
async function clientAddresses(server: RedisServer): Promise<string[]> {
  const list = await server.cli(['CLIENT', 'LIST']);
  return list
    .split('\n')
    .filter((l) => l !== '' && !/ cmd=client\|list /.test(l))
    .map((l) => /\baddr=([\d.]+):\d+/.exec(l)?.[1] ?? `?${l}`);
}

/** DEBUG DIGEST (the lab's redis-server allows DEBUG); throws on any other answer. */
async function debugDigest(server: RedisServer): Promise<string> {
  const r = await server.cli(['DEBUG', 'DIGEST']);
  assert.match(r, /^[0-9a-f]{40}$/, `DEBUG DIGEST answered ${JSON.stringify(r)}`);
  return r;
}

async function replicateBenchmark(t: TestContext, pipeline: number): Promise<void> {
  const rl = await ReplicationLab.create({ service: 'redis' });
  try {
    const { online, target } = rl;
    assert.equal(await online.cli(['DBSIZE']), '0');
    assert.equal(await target.cli(['DBSIZE']), '0');

    // Sample the target's clients while the benchmark runs (bounded by the run).
    const seen = new Set<string>();
    let running = true;
    const sampler = (async () => {
      while (running) {
        for (const a of await clientAddresses(target)) seen.add(a);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let bench;
    try {
      bench = await redisBenchmark(rl.cli, {
        host: rl.onl.ip,
        port: rl.onlinePort,
        tests: COMMANDS.join(','),
        requests: REQUESTS,
        clients: CLIENTS,
        pipeline,
        keyspace: KEYSPACE,
        timeLimitS: 60,
      });
    } finally {
      running = false;
      await sampler;
    }
    assert.deepEqual([...bench.rps.keys()].sort(), ['HSET', 'INCR', 'LPUSH', 'SET'], 'redis-benchmark ran every test');

    const onlineCalls = await commandCalls(online);
    for (const c of COMMANDS) assert.equal(onlineCalls.get(c), REQUESTS, `online ${c} calls`);
    const onlineDigest = await keyspaceDigest(online);
    const onlineKeys = await online.cli(['DBSIZE']);
    // The target lags behind online: poll until it has run every command and holds the same data.
    let targetDigest = '';
    let targetCalls = new Map<string, number>();
    const caughtUp = await pollUntil(
      async () => {
        targetCalls = await commandCalls(target);
        if (!COMMANDS.every((c) => targetCalls.get(c) === onlineCalls.get(c))) return false;
        targetDigest = await keyspaceDigest(target);
        return targetDigest === onlineDigest;
      },
      20_000,
      250,
    );
    const leaked = await rl.leakedFrames();
    const { tcpcopy, intercept } = await rl.stop();
    assert.ok(tcpcopy?.summary, rl.diagnostics());
    const s = tcpcopy.summary;
    const summaries = `${tailFrom(tcpcopy.log, 'tcpcopy summary')}\n${tailFrom(intercept.log, 'intercept summary')}`;
    t.diagnostic(
      `redis -P ${pipeline}: online calls ${COMMANDS.map((c) => `${c}=${onlineCalls.get(c) ?? 0}`).join(' ')}; target calls ${COMMANDS.map((c) => `${c}=${targetCalls.get(c) ?? 0}`).join(' ')}; keys ${onlineKeys}/${await target.cli(['DBSIZE'])}; caught up ${caughtUp}; rps ${[...bench.rps].map(([k, v]) => `${k} ${v}`).join(', ')}; conns ${s.get('conns')} syn cnt ${s.get('syn cnt')} capture dropped ${s.get('capture dropped')} leaked ${leaked}`,
    );

    assert.ok(
      caughtUp,
      `target did not catch up: keyspace digest ${targetDigest} vs online ${onlineDigest}\n${summaries}`,
    );
    assert.equal(targetDigest, onlineDigest);
    assert.equal(await target.cli(['DBSIZE']), onlineKeys);
    for (const c of COMMANDS) assert.equal(targetCalls.get(c), REQUESTS, `target ${c} calls\n${summaries}`);
    const [od, td] = [await debugDigest(online), await debugDigest(target)];
    assert.notEqual(od, '0'.repeat(40), 'the online dataset is not empty');
    assert.equal(td, od, 'DEBUG DIGEST');

    assert.ok(seen.size > 0, 'no client seen on the target during the run');
    assert.deepEqual([...seen], [rl.cli.ip], 'target clients came from cli');
    assert.equal(leaked, 0, 'cli received frames from tgt');
    assert.equal(s.get('send errors'), 0, summaries);
    assert.equal(s.get('for no syn'), 0, summaries);
    assert.equal(tcpcopy.exitCode, 0, summaries);
    assert.equal(intercept.exitCode, 0, summaries);
  } finally {
    await rl.destroy();
  }
}

test(
  'redis-benchmark without pipelining is replicated: same data on target',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    await replicateBenchmark(t, 1);
  },
);

test(
  'redis-benchmark with -P 16 is replicated: same data on target',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    await replicateBenchmark(t, 16);
  },
);
