// Offline replay, packet transport: a recording made by `tcpcopy --record` on the online host
// while redis-benchmark runs is replayed with `tcpcopy --offline` over raw IP to redis-server on the
// target, with intercept on the assistant returning the replies, exactly as live replication. The
// target then holds the same dataset (DEBUG DIGEST) and counted the same commands as the online
// server. (The HTTP counterpart is in offline.e2e.test.ts; the socket transport in
// record-replay.e2e.test.ts.) Needs root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab, commandCalls, pollUntil, redisBenchmark, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const COMMANDS = ['set', 'incr', 'lpush', 'hset'] as const;
const REQUESTS = 5000;

let rl: ReplicationLab<'redis'> | null = null;
let dir = '';

before(async () => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'record-replay-packet-'));
  rl = await ReplicationLab.create({ service: 'redis', startTcpcopy: false });
});

after(async () => {
  await rl?.destroy();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Runs a bin/tcpcopy command on onl to its exit (bounded), or until `stopOn` shows up and SIGINT. */
async function runTcpcopy(
  args: string[],
  timeoutMs: number,
  during?: { ready: RegExp; work: () => Promise<void> },
): Promise<{ code: number | null; text: string }> {
  const r = rl!;
  const child = r.onl.spawn(process.execPath, [join(packageRoot(), 'bin', 'tcpcopy'), ...args]);
  const w = watchProcess(child);
  if (during) {
    await w.waitFor(during.ready, 20_000);
    await during.work();
    child.kill('SIGINT');
  }
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    w.exited,
    new Promise<'timeout'>((res) => {
      timer = setTimeout(() => res('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`tcpcopy ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${w.text()}`);
  }
  return { code, text: w.text() };
}

const digest = async (s: { cli(a: readonly string[]): Promise<string> }): Promise<string> => s.cli(['DEBUG', 'DIGEST']);
const calls = async (s: Parameters<typeof commandCalls>[0]): Promise<string> => {
  const c = await commandCalls(s);
  return COMMANDS.map((k) => `${k}=${c.get(k) ?? 0}`).join(' ');
};

test(
  'a redis-benchmark recording replayed with the packet transport and intercept: same commands, same DEBUG DIGEST',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async () => {
    const r = rl!;
    const file = join(dir, 'redis.pcapng');
    const rec = await runTcpcopy(['--record', file, '-x', '6379', '-i', 'eth0', '--stats-interval', '0'], 20_000, {
      ready: /recording on eth0/,
      work: async () => {
        await redisBenchmark(r.cli, {
          host: r.onl.ip,
          port: 6379,
          tests: COMMANDS.join(','),
          requests: REQUESTS,
          clients: 20,
          pipeline: 1,
          keyspace: 1000,
          timeLimitS: 60,
        });
        await new Promise((res) => setTimeout(res, 1000)); // the last FINs reach the capture
      },
    });
    assert.equal(rec.code, 0, rec.text);
    assert.match(rec.text, /record summary after [\d.]+ s: packets \d+, .*capture dropped 0, write failed 0/);
    const onlineCalls = await calls(r.online);
    assert.equal(onlineCalls, COMMANDS.map((k) => `${k}=${REQUESTS}`).join(' '));
    const onlineDigest = await digest(r.online);
    assert.match(onlineDigest, /^[0-9a-f]{40}$/);
    assert.equal(await digest(r.target), '0'.repeat(40), 'the target starts empty');

    const replay = await runTcpcopy(
      ['-x', `6379-${r.tgt.ip}:6379`, '-s', r.ast.ip, '--secret', r.secret, '--offline', file, '--top-speed'],
      150_000,
    );
    assert.equal(replay.code, 0, replay.text);
    const caughtUp = await pollUntil(async () => (await digest(r.target)) === onlineDigest, 20_000, 250);
    assert.ok(
      caughtUp,
      `target digest ${await digest(r.target)} != online ${onlineDigest}; target calls ${await calls(r.target)}\n${replay.text}`,
    );
    assert.equal(await calls(r.target), onlineCalls);
    assert.equal(await r.target.cli(['DBSIZE']), await r.online.cli(['DBSIZE']));
    assert.match(replay.text, /send errors:0,/);
  },
);
