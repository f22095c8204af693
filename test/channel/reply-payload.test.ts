// Reply payloads over the channel, on loopback sockets: an intercept that forwards them says so in a
// NOTICE FEATURES after WELCOME; a session that asks (PAYLOAD_WANT) gets RESPONSE_DATA with at most the
// bytes it asked for and intercept's bound, the others plain RESPONSEs; the wish survives a reconnect;
// an intercept without the feature is never asked; an old tcpcopy sees the announcement as an ordinary
// NOTICE. Exact bytes of both new messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import {
  FrameDecoder,
  MessageType,
  NoticeCode,
  PeerRole,
  computeMac,
  decodeBody,
  encodeMessage,
} from '../../src/channel/index.js';
import type { ChannelMessage, ResponseMessage } from '../../src/channel/index.js';
import { SECRET, V4_SESSION, V6_SESSION, newClient, replyFor, startServer, until } from './fixtures.js';

const GREETING = Buffer.from('\x4a\x00\x00\x00\x0a10.11.19-MariaDB\x00greeting-bytes-after-the-version', 'latin1');

function withPayload(r: ResponseMessage, payload: Buffer): ResponseMessage {
  return { ...r, payloadLength: payload.length, payload };
}

void test('PAYLOAD_WANT and RESPONSE_DATA: exact bytes, round trip, refusals', () => {
  const want = encodeMessage({ type: 'payload-want', session: V4_SESSION, maxBytes: 512 });
  assert.equal(
    want.toString('hex'),
    // version 1, type 11, 16-byte body: S(4) then u16 512
    '010b0010' + '04009c401f90' + '0a4d0002' + '0a4d0003' + '0200',
  );
  assert.deepEqual(decodeBody(MessageType.PAYLOAD_WANT, want, 4, want.length), {
    type: 'payload-want',
    session: V4_SESSION,
    maxBytes: 512,
  });
  const r = withPayload(replyFor(V6_SESSION, 0x18), Buffer.from('abc'));
  const frame = encodeMessage(r);
  assert.equal(frame[1], MessageType.RESPONSE_DATA);
  // RESPONSE's body (8 + 2·16 + 20 bytes), then the 3 payload bytes.
  assert.equal(frame.readUInt16BE(2), 8 + 32 + 20 + 3);
  assert.equal(frame.subarray(-3).toString(), 'abc');
  const back = decodeBody(MessageType.RESPONSE_DATA, frame, 4, frame.length) as ResponseMessage;
  assert.deepEqual({ ...back, tcpHeader: [...back.tcpHeader] }, { ...r, tcpHeader: [...r.tcpHeader] });
  // Without payload the same reply is a plain RESPONSE, byte for byte as before the feature.
  const plain = encodeMessage(replyFor(V6_SESSION, 0x18, 3));
  assert.equal(plain[1], MessageType.RESPONSE);
  assert.deepEqual(plain.subarray(4, 4 + 60), frame.subarray(4, 4 + 60));
  // More payload bytes than the reply had: refused both ways.
  const lying = Buffer.from(frame);
  lying.writeUInt32BE(2, 4 + 4);
  assert.throws(
    () => decodeBody(MessageType.RESPONSE_DATA, lying, 4, lying.length),
    /3 payload bytes carried of a 2-byte/,
  );
  assert.throws(() => encodeMessage({ ...r, payloadLength: 1 }), /3 payload bytes carried of a 1-byte payload/);
  // A data offset running past the body.
  const cut = frame.subarray(0, 4 + 40 + 12);
  assert.throws(() => decodeBody(MessageType.RESPONSE_DATA, cut, 4, cut.length), /too short|past the/);
  // PAYLOAD_WANT of the wrong size.
  assert.throws(() => decodeBody(MessageType.PAYLOAD_WANT, want, 4, want.length - 1), /PAYLOAD_WANT body is 15/);
});

void test('a session that asks gets its replies with payload (bounded); the others get headers only', async () => {
  const { server, port } = await startServer({ replyPayloadBytes: 16 });
  const a = newClient(port, { connectionsPerServer: 2 });
  const other = { ...V4_SESSION, clientPort: 40001 };
  try {
    a.client.start();
    await a.client.waitForConnections();
    await until(() => a.client.payloadConnections === 2, 'FEATURES on both connections');
    a.client.register(V4_SESSION);
    a.client.register(other);
    a.client.wantPayload(V4_SESSION, 64);
    await until(() => server.wantsPayloads, 'PAYLOAD_WANT at intercept');
    // Asked 64, intercept forwards at most 16.
    assert.equal(server.sendResponse(withPayload(replyFor(V4_SESSION, 0x18), GREETING)).kind, 'routed');
    assert.equal(server.sendResponse(withPayload(replyFor(other, 0x18), GREETING)).kind, 'routed');
    await until(() => a.got.length === 2, 'two replies');
    const mine = a.got.find((r) => r.tcpHeader.readUInt16BE(2) === V4_SESSION.clientPort)!;
    const theirs = a.got.find((r) => r.tcpHeader.readUInt16BE(2) === other.clientPort)!;
    assert.deepEqual(mine.payload, GREETING.subarray(0, 16));
    assert.equal(mine.payloadLength, GREETING.length);
    assert.equal(theirs.payload, undefined);
    assert.equal(theirs.payloadLength, GREETING.length);
    // A smaller wish than intercept's bound; then 0: no more payload.
    a.client.wantPayload(V4_SESSION, 5);
    await new Promise((r) => setTimeout(r, 50));
    server.sendResponse(withPayload(replyFor(V4_SESSION, 0x18), GREETING));
    await until(() => a.got.length === 3, 'third reply');
    assert.deepEqual(a.got[2]!.payload, GREETING.subarray(0, 5));
    a.client.wantPayload(V4_SESSION, 0);
    await until(() => !server.wantsPayloads, 'wish withdrawn');
    server.sendResponse(withPayload(replyFor(V4_SESSION, 0x18), GREETING));
    await until(() => a.got.length === 4, 'fourth reply');
    assert.equal(a.got[3]!.payload, undefined);
    // Unregistering drops the wish with the route.
    a.client.wantPayload(V4_SESSION, 8);
    await until(() => server.wantsPayloads, 'asked again');
    a.client.unregister(V4_SESSION);
    await until(() => !server.wantsPayloads, 'unregistered');
  } finally {
    await a.client.close();
    await server.close();
  }
});

void test('the wish is asked again after intercept restarts and the connection comes back', async () => {
  const first = await startServer({ replyPayloadBytes: 64 });
  const a = newClient(first.port, { connectionsPerServer: 1 });
  try {
    a.client.start();
    await until(() => a.client.payloadConnections === 1, 'FEATURES');
    a.client.register(V4_SESSION);
    a.client.wantPayload(V4_SESSION, 32);
    await until(() => first.server.wantsPayloads, 'wish');
    await first.server.close();
    await until(() => a.client.payloadConnections === 0, 'connection lost');
    const second = await startServer({ replyPayloadBytes: 64 }, first.port);
    try {
      await until(() => second.server.wantsPayloads, 'wish re-sent after FEATURES');
      second.server.sendResponse(withPayload(replyFor(V4_SESSION, 0x18), GREETING));
      await until(() => a.got.length === 1, 'reply');
      assert.deepEqual(a.got[0]!.payload, GREETING.subarray(0, 32));
    } finally {
      await second.server.close();
    }
  } finally {
    await a.client.close();
  }
});

void test('an intercept without the feature announces nothing and is never asked', async () => {
  const { server, port, log } = await startServer({ replyPayloadBytes: 0 });
  const a = newClient(port, { connectionsPerServer: 1 });
  try {
    a.client.start();
    await a.client.waitForConnections();
    a.client.register(V4_SESSION);
    a.client.wantPayload(V4_SESSION, 32);
    await until(() => server.routing.size === 1, 'registration');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.client.payloadConnections, 0);
    assert.equal(server.wantsPayloads, false);
    assert.equal(server.stats.refused, 0, log.lines.join('\n'));
    server.sendResponse(withPayload(replyFor(V4_SESSION, 0x18), GREETING));
    await until(() => a.got.length === 1, 'reply');
    assert.equal(a.got[0]!.payload, undefined);
  } finally {
    await a.client.close();
    await server.close();
  }
});

void test('an old tcpcopy reads the announcement as an ordinary NOTICE; asking without it is refused', async () => {
  const { server, port } = await startServer({ replyPayloadBytes: 512 });
  const socket = connect({ host: '127.0.0.1', port });
  const msgs: ChannelMessage[] = [];
  const d = new FrameDecoder();
  socket.on('data', (c: Buffer) => d.push(c, (m) => msgs.push(m)));
  try {
    await until(() => msgs.length === 1, 'challenge');
    const ch = msgs[0]!;
    assert.equal(ch.type, 'challenge');
    if (ch.type !== 'challenge') return;
    socket.write(
      encodeMessage({
        type: 'hello',
        version: 1,
        role: PeerRole.TCPCOPY,
        instanceId: 'old',
        mac: computeMac(SECRET, ch.nonce, PeerRole.TCPCOPY, 'old'),
      }),
    );
    await until(() => msgs.length === 3, 'welcome and notice');
    assert.equal(msgs[1]!.type, 'welcome');
    // Type 10 with a known layout: a tcpcopy of before the feature logs it and carries on.
    assert.deepEqual(msgs[2], { type: 'notice', code: NoticeCode.FEATURES, message: 'reply-payload=512' });
    // A tcpcopy that asks a featureless intercept is refused (ours never does: see the test above).
    const bare = await startServer({ replyPayloadBytes: 0 });
    try {
      const s2 = connect({ host: '127.0.0.1', port: bare.port });
      const m2: ChannelMessage[] = [];
      const d2 = new FrameDecoder();
      s2.on('data', (c: Buffer) => d2.push(c, (m) => m2.push(m)));
      await until(() => m2.length === 1, 'challenge 2');
      const c2 = m2[0]!;
      if (c2.type !== 'challenge') throw new Error('no challenge');
      s2.write(
        encodeMessage({
          type: 'hello',
          version: 1,
          role: PeerRole.TCPCOPY,
          instanceId: 'x',
          mac: computeMac(SECRET, c2.nonce, PeerRole.TCPCOPY, 'x'),
        }),
      );
      s2.write(encodeMessage({ type: 'register', session: V4_SESSION }));
      s2.write(encodeMessage({ type: 'payload-want', session: V4_SESSION, maxBytes: 10 }));
      await until(() => m2.some((m) => m.type === 'error'), 'refusal');
      assert.match(JSON.stringify(m2.find((m) => m.type === 'error')), /forwards no reply payloads/);
      s2.destroy();
    } finally {
      await bare.server.close();
    }
  } finally {
    socket.destroy();
    await server.close();
  }
});
