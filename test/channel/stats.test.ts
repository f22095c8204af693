// intercept's own counters over the channel (NOTICE STATS, asked for with STATS_WANT), on loopback
// sockets: exact bytes; the text's grammar (round trip for any counters, typed errors for garbage);
// an intercept with counters announces `stats` and sends them every interval to a tcpcopy that asks,
// and only to it; a tcpcopy that does not ask, or an intercept without counters, exchanges nothing;
// asking an intercept without the feature is refused; a garbled STATS is counted, warned once, and
// the connection stays up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import {
  ChannelError,
  FrameDecoder,
  MessageType,
  NoticeCode,
  PeerRole,
  computeMac,
  decodeBody,
  encodeMessage,
  formatStatsNotice,
  parseStatsNotice,
} from '../../src/channel/index.js';
import type { ChannelMessage, ChannelServer } from '../../src/channel/index.js';
import { SECRET, V4_SESSION, newClient, replyFor, startServer, until } from './fixtures.js';

void test('STATS_WANT: exact bytes, round trip, wrong size refused', () => {
  const f = encodeMessage({ type: 'stats-want', intervalMs: 1000 });
  assert.equal(f.toString('hex'), '010d0004' + '000003e8');
  assert.deepEqual(decodeBody(MessageType.STATS_WANT, f, 4, f.length), { type: 'stats-want', intervalMs: 1000 });
  assert.throws(() => decodeBody(MessageType.STATS_WANT, f, 4, f.length - 1), /STATS_WANT body is 3 bytes/);
  assert.throws(() => encodeMessage({ type: 'stats-want', intervalMs: -1 }), /does not fit 32 bits/);
});

void test('stats text: any camelCase counters round-trip; garbage is a MALFORMED ChannelError', () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.stringMatching(/^[a-z][A-Za-z0-9]{0,20}$/), fc.maxSafeNat(), { maxKeys: 20 }),
      (counters) => {
        const back = parseStatsNotice(formatStatsNotice(counters));
        assert.deepEqual([...back], Object.entries(counters));
      },
    ),
    { seed: 14, numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        parseStatsNotice(text);
      } catch (e) {
        assert.ok(e instanceof ChannelError && e.code === 'MALFORMED', String(e));
      }
    }),
    { seed: 14, numRuns: 2000 },
  );
  assert.deepEqual(
    [...parseStatsNotice('routedResponses=7 lostResponses=0')],
    [
      ['routedResponses', 7],
      ['lostResponses', 0],
    ],
  );
  for (const bad of ['routed', 'routed=', 'routed=-1', 'Routed=1', 'a=1  b=2', 'a=1 a=2', 'a=99999999999999999'])
    assert.throws(() => parseStatsNotice(bad), ChannelError, bad);
  assert.throws(() => formatStatsNotice({ 'no space': 1 }), /name/);
  assert.throws(() => formatStatsNotice({ a: 1.5 }), /non-negative integer/);
});

async function hello(
  port: number,
  id: string,
): Promise<{ msgs: ChannelMessage[]; send: (m: ChannelMessage) => void; end: () => void }> {
  const socket = connect({ host: '127.0.0.1', port });
  const msgs: ChannelMessage[] = [];
  const d = new FrameDecoder();
  socket.on('data', (c: Buffer) => d.push(c, (m) => msgs.push(m)));
  await until(() => msgs.length === 1, 'challenge');
  const ch = msgs[0]!;
  if (ch.type !== 'challenge') throw new Error('no challenge');
  socket.write(
    encodeMessage({
      type: 'hello',
      version: 1,
      role: PeerRole.TCPCOPY,
      instanceId: id,
      mac: computeMac(SECRET, ch.nonce, PeerRole.TCPCOPY, id),
    }),
  );
  await until(() => msgs.some((m) => m.type === 'welcome'), 'welcome');
  return { msgs, send: (m) => socket.write(encodeMessage(m)), end: () => socket.destroy() };
}

void test('a tcpcopy that asks gets the counters every interval; they follow the routing', async () => {
  let routed = 0;
  const { server, port } = await startServer({
    replyPayloadBytes: 0,
    stats: () => ({ routedResponses: routed, lostResponses: 0 }),
  });
  const got: Array<[string, number]> = [];
  const a = newClient(port, {
    connectionsPerServer: 2,
    statsIntervalMs: 100,
    onStats: (c, where) => got.push([where, c.get('routedResponses') ?? -1]),
  });
  const quiet = newClient(port, { connectionsPerServer: 1 });
  let quietNotices = 0;
  try {
    a.client.start();
    quiet.client.start();
    await a.client.waitForConnections();
    await quiet.client.waitForConnections();
    a.client.register(V4_SESSION);
    await until(() => server.routing.size === 1, 'registration');
    for (let i = 0; i < 5; i++) if (server.sendResponse(replyFor(V4_SESSION, 0x10)).kind === 'routed') routed++;
    await until(() => got.some(([, n]) => n === 5), 'the routed count in a STATS');
    const seen = got.length;
    await new Promise((r) => setTimeout(r, 350));
    // Two connections asked, each every 100 ms: at least 4 more in 350 ms.
    assert.ok(got.length - seen >= 4, `${got.length - seen} STATS in 350 ms`);
    assert.ok(
      got.every(([w]) => w === `127.0.0.1:${port}`),
      'keyed by the intercept, not the connection',
    );
    assert.equal(a.client.stats.protocolErrors, 0);
    quietNotices = quiet.log.lines.filter((l) => /notice|stats/i.test(l)).length;
    assert.equal(quietNotices, 0, quiet.log.lines.join('\n'));
  } finally {
    await a.client.close();
    await quiet.client.close();
    await server.close();
  }
});

void test('no counters, no feature: FEATURES does not name stats, a STATS_WANT is refused; a raw peer sees the words', async () => {
  const withStats = await startServer({ replyPayloadBytes: 512, stats: () => ({ a: 1 }) });
  const bare = await startServer({ replyPayloadBytes: 0 });
  const closeAll = async (s: ChannelServer[]) => {
    for (const x of s) await x.close();
  };
  try {
    const p = await hello(withStats.port, 'raw');
    await until(() => p.msgs.length === 3, 'features');
    assert.deepEqual(p.msgs[2], { type: 'notice', code: NoticeCode.FEATURES, message: 'reply-payload=512 stats' });
    p.send({ type: 'stats-want', intervalMs: 5 }); // clamped to 100 ms
    await until(() => p.msgs.filter((m) => m.type === 'notice' && m.code === NoticeCode.STATS).length >= 3, 'STATS');
    assert.deepEqual(p.msgs[3], { type: 'notice', code: NoticeCode.STATS, message: 'a=1' });
    p.send({ type: 'stats-want', intervalMs: 0 });
    await new Promise((r) => setTimeout(r, 60));
    const n = p.msgs.length;
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(p.msgs.length, n, 'stopped by interval 0');
    p.end();
    const q = await hello(bare.port, 'raw2');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(q.msgs.length, 2, 'challenge and welcome only');
    q.send({ type: 'stats-want', intervalMs: 1000 });
    await until(() => q.msgs.some((m) => m.type === 'error'), 'refusal');
    assert.match(JSON.stringify(q.msgs.find((m) => m.type === 'error')), /sends no stats/);
    q.end();
  } finally {
    await closeAll([withStats.server, bare.server]);
  }
});

void test('a garbled STATS is counted and warned once; replies still flow on the connection', async () => {
  const { server, port } = await startServer({ replyPayloadBytes: 0 });
  const a = newClient(port, { connectionsPerServer: 1, statsIntervalMs: 1000, onStats: () => assert.fail('no stats') });
  try {
    a.client.start();
    await a.client.waitForConnections();
    a.client.register(V4_SESSION);
    await until(() => server.routing.size === 1, 'registration');
    assert.equal(server.notify(NoticeCode.STATS, 'routed=1 garbage'), 1);
    assert.equal(server.notify(NoticeCode.STATS, 'x y'), 1);
    server.sendResponse(replyFor(V4_SESSION, 0x10));
    await until(() => a.got.length === 1, 'the reply after the garbage');
    assert.equal(a.client.stats.protocolErrors, 2);
    assert.equal(a.log.lines.filter((l) => /bad stats/.test(l)).length, 1, a.log.lines.join('\n'));
    assert.equal(a.client.authenticatedConnections, 1);
  } finally {
    await a.client.close();
    await server.close();
  }
});
