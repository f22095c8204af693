// Socket edge over loopback: authentication, routing between two clients, parked SYN-ACK, bad frames
// disconnecting one peer while others are served, reconnect with re-registration, and batching.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import {
  ChannelClient,
  ChannelError,
  FrameDecoder,
  encodeMessage,
  computeMac,
  PeerRole,
  parseServerList,
} from '../../src/channel/index.js';
import type { ChannelMessage, SessionKey } from '../../src/channel/index.js';
import { SECRET, V4_SESSION, V6_SESSION, memoryLogger, newClient, replyFor, startServer, until } from './fixtures.js';

/** A raw socket that collects decoded messages and notes when it is closed. */
function rawPeer(port: number): { socket: Socket; msgs: ChannelMessage[]; closed: () => boolean } {
  const socket = connect({ host: '127.0.0.1', port });
  const msgs: ChannelMessage[] = [];
  let closed = false;
  const d = new FrameDecoder();
  socket.on('data', (c: Buffer) => d.push(c, (m) => msgs.push(m)));
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  return { socket, msgs, closed: () => closed };
}

describe('ChannelServer / ChannelClient', () => {
  test('parseServerList', () => {
    assert.deepEqual(parseServerList('10.0.0.1,10.0.0.2:4000,[fd00::1]:5,fd00::2'), [
      { host: '10.0.0.1', port: 36524 },
      { host: '10.0.0.2', port: 4000 },
      { host: 'fd00::1', port: 5 },
      { host: 'fd00::2', port: 36524 },
    ]);
    assert.throws(() => parseServerList('1.2.3.4:0'), ChannelError);
    assert.throws(() => parseServerList('1.2.3.4,'), ChannelError);
  });

  test('right secret accepted; wrong or missing secret refused and logged', async () => {
    const { server, port, log } = await startServer();
    const good = newClient(port, { instanceId: 'good' });
    const bad = newClient(port, { instanceId: 'bad', secret: 'wrong' });
    try {
      good.client.start();
      bad.client.start();
      await good.client.waitForConnections();
      await until(() => bad.client.stats.authFailures >= 2, 'wrong-secret refusals');
      assert.equal(bad.client.authenticatedConnections, 0);
      assert.ok(
        log.lines.some((l) => l.startsWith('warn') && l.includes('wrong shared secret') && l.includes('"bad"')),
      );
      assert.ok(bad.log.lines.some((l) => l.includes('refused us')));
      // missing secret: a peer that skips HELLO is refused
      const raw = rawPeer(port);
      raw.socket.write(encodeMessage({ type: 'register', session: V4_SESSION }));
      await until(raw.closed, 'raw peer closed');
      assert.ok(raw.msgs.some((m) => m.type === 'error' && m.code === 2));
      assert.ok(log.lines.some((l) => l.includes('register before authentication')));
      assert.equal(server.routing.size, 0);
      assert.equal(server.peerCount, 2);
      assert.throws(
        () => new ChannelClient({ servers: [{ host: '127.0.0.1', port }], env: {} }),
        (e: unknown) => e instanceof ChannelError && e.code === 'NO_SECRET',
      );
      const fromEnv = new ChannelClient({
        servers: [{ host: '127.0.0.1', port }],
        env: { TCPCOPY_SECRET: SECRET },
        logger: memoryLogger(),
      });
      fromEnv.start();
      await fromEnv.waitForConnections();
      await fromEnv.close();
    } finally {
      await good.client.close();
      await bad.client.close();
      await server.close();
    }
  });

  test('two clients each receive exactly their own responses', async () => {
    const { server, port } = await startServer();
    const a = newClient(port, { instanceId: 'a', connectionsPerServer: 3 });
    const b = newClient(port, { instanceId: 'b' });
    try {
      a.client.start();
      b.client.start();
      await a.client.waitForConnections();
      await b.client.waitForConnections();
      const sa: SessionKey[] = Array.from({ length: 6 }, (_, i) => ({ ...V4_SESSION, clientPort: 1000 + i }));
      const sb: SessionKey[] = [V6_SESSION, { ...V4_SESSION, clientPort: 2000 }];
      sa.forEach((s) => a.client.register(s));
      sb.forEach((s) => b.client.register(s));
      await until(() => server.routing.size === 8, 'registrations');
      // round-robin: a's six sessions spread over its three connections, two each
      const counts = new Map<unknown, number>();
      for (const s of sa) counts.set(server.routing.lookup(s), (counts.get(server.routing.lookup(s)) ?? 0) + 1);
      assert.deepEqual([...counts.values()], [2, 2, 2]);
      for (const s of [...sa, ...sb]) assert.equal(server.sendResponse(replyFor(s, 0x18, 10)).kind, 'routed');
      assert.equal(server.sendResponse(replyFor({ ...V4_SESSION, clientPort: 9 }, 0x18)).kind, 'unroutable');
      await until(() => a.got.length === 6 && b.got.length === 2, 'responses');
      assert.deepEqual(
        a.got.map((r) => r.tcpHeader.readUInt16BE(2)).sort(),
        sa.map((s) => s.clientPort),
      );
      assert.deepEqual(
        b.got.map((r) => r.dst),
        ['fd00::2', '10.77.0.2'],
      );
      b.client.unregister(V6_SESSION);
      await until(() => server.routing.size === 7, 'unregistration');
      assert.equal(server.routing.counters.unroutable, 1);
    } finally {
      await a.client.close();
      await b.client.close();
      await server.close();
    }
  });

  test('a SYN-ACK captured before the registration is delivered once it arrives', async () => {
    const { server, port } = await startServer();
    const a = newClient(port, { connectionsPerServer: 1 });
    try {
      a.client.start();
      await a.client.waitForConnections();
      assert.equal(server.sendResponse(replyFor(V4_SESSION, 0x12)).kind, 'parked');
      assert.equal(server.sendResponse(replyFor(V4_SESSION, 0x10, 5)).kind, 'unroutable');
      a.client.register(V4_SESSION);
      await until(() => a.got.length === 1, 'parked reply');
      assert.equal(a.got[0]?.tcpHeader[13], 0x12);
      assert.equal(server.routing.counters.parkedDelivered, 1);
    } finally {
      await a.client.close();
      await server.close();
    }
  });

  test('garbage, oversized, wrong-version and truncated frames drop that peer; others keep being served', async () => {
    const { server, port, log } = await startServer({ connection: { maxFrameBodyBytes: 256 } });
    const a = newClient(port, { connectionsPerServer: 1 });
    try {
      a.client.start();
      await a.client.waitForConnections();
      a.client.register(V4_SESSION);
      await until(() => server.routing.size === 1, 'registration');
      const bad: [string, Buffer][] = [
        ['BAD_VERSION', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
        ['UNKNOWN_TYPE', Buffer.from('01ee0000', 'hex')],
        ['FRAME_TOO_LARGE', Buffer.from('01060fff', 'hex')],
        ['BAD_VERSION', Buffer.from('02070004deadbeef', 'hex')],
        ['TRUNCATED', Buffer.from('010700040000', 'hex')],
        ['MALFORMED', Buffer.from('0107000100', 'hex')],
      ];
      for (const [code, bytes] of bad) {
        const raw = rawPeer(port);
        await until(() => raw.msgs.length === 1, 'challenge');
        const ch = raw.msgs[0];
        assert.ok(ch?.type === 'challenge');
        // authenticate first, so the decoder — not authentication — is what refuses the peer
        raw.socket.write(
          encodeMessage({
            type: 'hello',
            version: 1,
            role: PeerRole.TCPCOPY,
            instanceId: 'raw',
            mac: computeMac(SECRET, ch.nonce, PeerRole.TCPCOPY, 'raw'),
          }),
        );
        await until(() => raw.msgs.length === 2, 'welcome');
        if (code === 'TRUNCATED') raw.socket.end(bytes);
        else raw.socket.write(bytes);
        await until(raw.closed, `${code} peer closed`);
        assert.ok(
          log.lines.some((l) => l.includes(`disconnected: ${code}`)),
          `${code} logged`,
        );
        assert.equal(server.sendResponse(replyFor(V4_SESSION, 0x10)).kind, 'routed');
      }
      await until(() => a.got.length === bad.length, 'responses to the healthy client');
      assert.equal(server.stats.protocolErrors, bad.length);
      assert.equal(server.peerCount, 1);
    } finally {
      await a.client.close();
      await server.close();
    }
  });

  test('server restarted: the client reconnects with backoff and re-registers live sessions', async () => {
    const first = await startServer();
    const a = newClient(first.port, { connectionsPerServer: 2 });
    let second: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      a.client.start();
      await a.client.waitForConnections();
      const sessions = [V4_SESSION, V6_SESSION, { ...V4_SESSION, clientPort: 3 }];
      sessions.forEach((s) => a.client.register(s));
      a.client.unregister(sessions[2] as SessionKey);
      await until(() => first.server.routing.size === 2, 'registrations');
      await first.server.close();
      await until(() => a.client.authenticatedConnections === 0, 'disconnect');
      await new Promise((r) => setTimeout(r, 150));
      const attemptsWhileDown = a.client.stats.connectAttempts;
      assert.ok(attemptsWhileDown > 2, 'retried while down');
      assert.ok(attemptsWhileDown < 2 + 2 * 6, `backoff bounds retries (${attemptsWhileDown})`);
      second = await startServer({}, first.port);
      await a.client.waitForConnections();
      await until(() => second?.server.routing.size === 2, 're-registrations');
      assert.equal(second.server.routing.lookup(sessions[2] as SessionKey), undefined);
      for (const s of sessions.slice(0, 2)) assert.equal(second.server.sendResponse(replyFor(s, 0x10)).kind, 'routed');
      await until(() => a.got.length === 2, 'responses after reconnect');
      assert.ok(a.log.lines.some((l) => l.includes('disconnected')));
    } finally {
      await a.client.close();
      await second?.server.close();
    }
  });

  test('batching: 10k responses arrive in order in far fewer writes than messages', async () => {
    const { server, port } = await startServer();
    const a = newClient(port, { connectionsPerServer: 1 });
    try {
      a.client.start();
      await a.client.waitForConnections();
      a.client.register(V4_SESSION);
      await until(() => server.routing.size === 1, 'registration');
      const peer = server.routing.lookup(V4_SESSION);
      assert.ok(peer);
      const writesBefore = peer.connection.stats.writes;
      const N = 10_000;
      for (let i = 0; i < N; i++) server.sendResponse(replyFor(V4_SESSION, 0x18, i, i));
      await until(() => a.got.length === N, '10k responses');
      a.got.forEach((r, i) => assert.equal(r.payloadLength, i));
      const writes = peer.connection.stats.writes - writesBefore;
      assert.ok(writes >= 1 && writes <= 10, `${writes} writes for ${N} messages`);
    } finally {
      await a.client.close();
      await server.close();
    }
  });
});
