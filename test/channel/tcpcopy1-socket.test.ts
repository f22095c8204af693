// TCPCopy 1.x compatibility over real loopback sockets. Our intercept side (Tcpcopy1Server) serves a
// test client that speaks only the fixtures' bytes (hand-written hex and offsets, nothing imported
// from src/channel/tcpcopy1); our tcpcopy side (Tcpcopy1Client) talks to a test server written the
// same way; and the two of ours talk to each other. Checked: exact bytes both ways, routing by exact
// 4-tuple, parked SYN-ACK, CLIENT_DEL, combined frames of at most 16, refusal of a first record that
// is not a version record, of an unknown type, and of peers off the allow-list; reconnect with
// re-registration; the unauthenticated-channel warning.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { Tcpcopy1Client, Tcpcopy1Server } from '../../src/channel/tcpcopy1/index.js';
import type { ChannelLogger, ResponseMessage, SessionKey } from '../../src/channel/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// msg_clt_t: u32 clt_ip · u16 clt_port · u16 type · u32 target_ip · u16 target_port (network order).
const VERSION = hex('00000000 0000 0006 00000000 0000');
/** CLIENT_ADD (type 1) or CLIENT_DEL (type 2) of 10.77.0.1:port → 10.77.0.3:8080. */
const clientRecord = (type: 1 | 2, port: number): Buffer => {
  const b = hex('0a4d0001 0000 0000 0a4d0003 1f90');
  b.writeUInt16BE(port, 4);
  b.writeUInt16BE(type, 6);
  return b;
};

/** The TCP header of a target reply 10.77.0.3:8080 → 10.77.0.1:port (doff 5, or 10 with options). */
function tcpHeader(port: number, seq: number, flags: number, options = ''): Buffer {
  const opts = hex(options);
  const h = Buffer.concat([hex('1f90 0000 00000000 55667789 0000 fe88 abcd 0000'), opts]);
  h.writeUInt16BE(port, 2);
  h.writeUInt32BE(seq, 4);
  h[12] = (h.length / 4) << 4;
  h[13] = flags;
  return h;
}
const SYN_ACK = 0x12;
const PSH_ACK = 0x18;
const OPTIONS = '020405b4 0402 080a0000000100000002 01 030307';

function reply(port: number, seq: number, flags: number, payloadLength = 0, options = ''): ResponseMessage {
  return {
    type: 'response',
    family: 4,
    hopLimit: 64,
    payloadLength,
    src: '10.77.0.3',
    dst: '10.77.0.1',
    tcpHeader: tcpHeader(port, seq, flags, options),
  };
}

/**
 * The 64-byte msg_server_t intercept must send for reply(port, seq, flags, payload, options): iphdr
 * 45 00 tot_len 0000 0000 ttl 40 proto 06 checksum saddr daddr, the TCP header, zeros to 64 bytes.
 */
function expectedRecord(port: number, seq: number, flags: number, payloadLength = 0, options = ''): Buffer {
  const tcp = tcpHeader(port, seq, flags, options);
  const rec = Buffer.alloc(64);
  hex(`45 00 0000 0000 0000 40 06 0000 0a4d0003 0a4d0001`).copy(rec, 0);
  rec.writeUInt16BE(20 + tcp.length + payloadLength, 2);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += rec.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  rec.writeUInt16BE(~sum & 0xffff, 10);
  tcp.copy(rec, 20);
  return rec;
}

function memoryLogger(): ChannelLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

async function until(cond: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw peer: collects every received byte. */
function rawClient(port: number, host = '127.0.0.1'): { socket: Socket; bytes: () => Buffer; closed: () => boolean } {
  const socket = connect({ host, port });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  return { socket, bytes: () => Buffer.concat(chunks), closed: () => closed };
}

/** Splits received bytes into combined frames by their u16 count; returns the records of each frame. */
function frames(b: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  let at = 0;
  while (at + 2 <= b.length) {
    const n = b.readUInt16BE(at);
    assert.ok(n >= 1 && n <= 16, `frame count ${n}`);
    assert.ok(at + 2 + n * 64 <= b.length, 'partial frame');
    const recs: Buffer[] = [];
    for (let i = 0; i < n; i++) recs.push(b.subarray(at + 2 + i * 64, at + 2 + (i + 1) * 64));
    out.push(recs);
    at += 2 + n * 64;
  }
  assert.equal(at, b.length);
  return out;
}

async function startServer(
  extra: Partial<ConstructorParameters<typeof Tcpcopy1Server>[0]> = {},
): Promise<{ server: Tcpcopy1Server; port: number; log: ReturnType<typeof memoryLogger> }> {
  const log = memoryLogger();
  const server = new Tcpcopy1Server({ host: '127.0.0.1', port: 0, logger: log, ...extra });
  const addr = await server.listen();
  return { server, port: addr.port, log };
}

describe('Tcpcopy1Server (intercept --tcpcopy1) serving a fixtures-only client', () => {
  test('version + CLIENT_ADD registers; replies come back as exact combined frames; parked SYN-ACK; CLIENT_DEL', async () => {
    const { server, port, log } = await startServer();
    try {
      assert.ok(
        log.lines.some((l) =>
          /^warn TCPCopy 1\.x compatibility: the channel on 127\.0\.0\.1:\d+ is NOT authenticated; peers accepted from any address$/.test(
            l,
          ),
        ),
        log.lines.join('\n'),
      );
      const c = rawClient(port);
      // Written in odd pieces: the version record split inside its first 8 bytes.
      const hello = Buffer.concat([VERSION, clientRecord(1, 40000)]);
      c.socket.write(hello.subarray(0, 5));
      await new Promise((r) => setTimeout(r, 20));
      c.socket.write(hello.subarray(5));
      await until(() => server.routing.size === 1, 'registration');
      assert.equal(server.peerCount, 1);
      assert.ok(
        server.routing.lookup({
          family: 4,
          clientIp: '10.77.0.1',
          clientPort: 40000,
          targetIp: '10.77.0.3',
          targetPort: 8080,
        }),
      );

      assert.equal(server.sendResponse(reply(40000, 1000, SYN_ACK, 0, OPTIONS)).kind, 'routed');
      await until(() => c.bytes().length >= 66, 'first frame');
      assert.deepEqual(c.bytes(), Buffer.concat([hex('0001'), expectedRecord(40000, 1000, SYN_ACK, 0, OPTIONS)]));

      // A SYN-ACK before its registration is parked and delivered on CLIENT_ADD.
      assert.equal(server.sendResponse(reply(40001, 2000, SYN_ACK)).kind, 'parked');
      c.socket.write(clientRecord(1, 40001));
      await until(() => c.bytes().length >= 132, 'parked reply');
      assert.deepEqual(c.bytes().subarray(66), Buffer.concat([hex('0001'), expectedRecord(40001, 2000, SYN_ACK)]));

      // 20 replies in one turn: one write of two frames, 16 + 4, in order, payload length in tot_len.
      const before = c.bytes().length;
      for (let i = 0; i < 20; i++)
        assert.equal(server.sendResponse(reply(40000, 5000 + i, PSH_ACK, 100 + i)).kind, 'routed');
      await until(() => c.bytes().length >= before + 4 + 20 * 64, 'batch');
      const f = frames(c.bytes().subarray(before));
      assert.deepEqual(
        f.map((x) => x.length),
        [16, 4],
      );
      f.flat().forEach((rec, i) => assert.deepEqual(rec, expectedRecord(40000, 5000 + i, PSH_ACK, 100 + i)));

      // CLIENT_DEL drops the route; a data reply is then unroutable.
      c.socket.write(clientRecord(2, 40000));
      await until(() => server.routing.size === 1, 'unregistration');
      assert.equal(server.sendResponse(reply(40000, 9000, PSH_ACK, 10)).kind, 'unroutable');
      c.socket.destroy();
      await until(() => server.peerCount === 0 && server.routing.size === 0, 'peer gone');
    } finally {
      await server.close();
    }
  });

  test("two peers get only their own sessions' replies", async () => {
    const { server, port } = await startServer();
    try {
      const a = rawClient(port);
      const b = rawClient(port);
      a.socket.write(Buffer.concat([VERSION, clientRecord(1, 41000)]));
      b.socket.write(Buffer.concat([VERSION, clientRecord(1, 42000)]));
      await until(() => server.routing.size === 2, 'registrations');
      for (let i = 0; i < 5; i++) {
        server.sendResponse(reply(41000, 100 + i, PSH_ACK, 1));
        server.sendResponse(reply(42000, 200 + i, PSH_ACK, 1));
      }
      await until(() => a.bytes().length >= 2 + 5 * 64 && b.bytes().length >= 2 + 5 * 64, 'replies');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        frames(a.bytes()).flat(),
        [0, 1, 2, 3, 4].map((i) => expectedRecord(41000, 100 + i, PSH_ACK, 1)),
      );
      assert.deepEqual(
        frames(b.bytes()).flat(),
        [0, 1, 2, 3, 4].map((i) => expectedRecord(42000, 200 + i, PSH_ACK, 1)),
      );
      a.socket.destroy();
      b.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test('a first record that is not a version record, or an unknown type, closes that peer only', async () => {
    const { server, port, log } = await startServer();
    try {
      const good = rawClient(port);
      good.socket.write(Buffer.concat([VERSION, clientRecord(1, 43000)]));
      await until(() => server.routing.size === 1, 'good registration');
      const old = rawClient(port);
      old.socket.write(clientRecord(1, 43001)); // a pre-1.0 tcpcopy: no version record
      await until(() => old.closed(), 'refusal of a client without version record');
      assert.equal(server.stats.refused, 1);
      assert.ok(
        log.lines.some((l) => l.includes('NO_VERSION')),
        log.lines.join('\n'),
      );
      const garbage = rawClient(port);
      const unknown = clientRecord(1, 43002);
      unknown.writeUInt16BE(9, 6);
      garbage.socket.write(Buffer.concat([VERSION, unknown]));
      await until(() => garbage.closed(), 'refusal of an unknown type');
      assert.ok(
        log.lines.some((l) => l.includes('UNKNOWN_TYPE')),
        log.lines.join('\n'),
      );
      assert.equal(server.routing.size, 1);
      assert.equal(server.sendResponse(reply(43000, 1, PSH_ACK, 5)).kind, 'routed');
      await until(() => good.bytes().length >= 66, 'the good peer is still served');
      assert.deepEqual(good.bytes(), Buffer.concat([hex('0001'), expectedRecord(43000, 1, PSH_ACK, 5)]));
      assert.equal(good.closed(), false);
      good.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test('allow-list: a peer not on it is disconnected before it is heard', async () => {
    const { server, port, log } = await startServer({ allowedPeers: ['127.0.0.2'] });
    try {
      assert.ok(
        log.lines.some((l) => l.endsWith('peers accepted from 127.0.0.2 only')),
        log.lines.join('\n'),
      );
      const c = rawClient(port);
      c.socket.write(Buffer.concat([VERSION, clientRecord(1, 44000)]));
      await until(() => c.closed(), 'refusal');
      assert.equal(server.stats.refused, 1);
      assert.equal(server.routing.size, 0);
      assert.ok(
        log.lines.some((l) => /peer 127\.0\.0\.1:\d+ refused: not in the allowed peers/.test(l)),
        log.lines.join('\n'),
      );
      // The allowed address gets in (127.0.0.2 is loopback on Linux).
      const ok = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      ok.on('error', () => {});
      ok.write(Buffer.concat([VERSION, clientRecord(1, 44001)]));
      await until(() => server.routing.size === 1, 'allowed registration');
      ok.destroy();
    } finally {
      await server.close();
    }
  });
});

/** A test intercept written from the fixtures: records what it reads, sends what it is told. */
async function rawServer(): Promise<{
  server: Server;
  port: number;
  conns: { socket: Socket; bytes: () => Buffer }[];
}> {
  const conns: { socket: Socket; bytes: () => Buffer }[] = [];
  const server = createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    conns.push({ socket, bytes: () => Buffer.concat(chunks) });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port, conns };
}

const session = (port: number): SessionKey => ({
  family: 4,
  clientIp: '10.77.0.1',
  clientPort: port,
  targetIp: '10.77.0.3',
  targetPort: 8080,
});

describe('Tcpcopy1Client (tcpcopy --tcpcopy1) against a fixtures-only intercept', () => {
  test('version record first, CLIENT_ADD per session, replies decoded, reconnect re-registers live sessions only', async () => {
    const { server, port, conns } = await rawServer();
    const got: ResponseMessage[] = [];
    const changes: number[] = [];
    const log = memoryLogger();
    const client = new Tcpcopy1Client({
      servers: [{ host: '127.0.0.1', port }],
      connectionsPerServer: 1,
      logger: log,
      backoff: { initialDelayMs: 20, maxDelayMs: 100 },
      onResponse: (r) => got.push(r),
      onConnectionsChange: (n) => changes.push(n),
    });
    try {
      client.start();
      assert.ok(log.lines.includes('warn TCPCopy 1.x compatibility: the channel to intercept is NOT authenticated'));
      await client.waitForConnections();
      await until(() => conns.length === 1 && conns[0]!.bytes().length >= 14, 'version record');
      assert.deepEqual(conns[0]!.bytes(), VERSION);
      client.register(session(40000));
      client.register(session(40001));
      client.register(session(40000)); // already registered: nothing sent
      client.register({ family: 6, clientIp: 'fd00::1', clientPort: 1, targetIp: 'fd00::3', targetPort: 8080 }); // not carried
      await until(() => conns[0]!.bytes().length >= 42, 'registrations');
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(conns[0]!.bytes(), Buffer.concat([VERSION, clientRecord(1, 40000), clientRecord(1, 40001)]));
      assert.equal(client.stats.registrationsSent, 2);

      // Two frames written in pieces: a SYN-ACK with options, then a data segment with 612 payload bytes.
      const wire = Buffer.concat([
        hex('0001'),
        expectedRecord(40000, 1000, SYN_ACK, 0, OPTIONS),
        hex('0001'),
        expectedRecord(40001, 2000, PSH_ACK, 612),
      ]);
      conns[0]!.socket.write(wire.subarray(0, 70));
      await new Promise((r) => setTimeout(r, 20));
      conns[0]!.socket.write(wire.subarray(70));
      await until(() => got.length === 2, 'responses');
      assert.deepEqual(got[0], reply(40000, 1000, SYN_ACK, 0, OPTIONS));
      assert.deepEqual(got[1], reply(40001, 2000, PSH_ACK, 612));

      // The intercept goes away; the client reconnects and re-registers what is still live (not 40001).
      client.unregister(session(40001));
      assert.equal(client.liveSessions, 1);
      conns[0]!.socket.destroy();
      await until(() => conns.length === 2 && conns[1]!.bytes().length >= 28, 're-registration');
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(conns[1]!.bytes(), Buffer.concat([VERSION, clientRecord(1, 40000)]));
      assert.deepEqual(changes, [1, 0, 1]);
      assert.equal(client.authenticatedConnections, 1);

      // A frame announcing 17 records is a protocol error: the connection is dropped and reopened.
      conns[1]!.socket.write(hex('0011'));
      await until(() => client.stats.protocolErrors === 1 && conns.length === 3, 'reconnect after a bad frame');
      assert.ok(
        log.lines.some((l) => l.includes('BAD_COUNT')),
        log.lines.join('\n'),
      );
    } finally {
      await client.close();
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('Tcpcopy1Client ↔ Tcpcopy1Server', () => {
  test('sessions registered round-robin over -C 2 connections; every reply reaches the client', async () => {
    const { server, port } = await startServer();
    const got: ResponseMessage[] = [];
    const client = new Tcpcopy1Client({
      servers: [{ host: '127.0.0.1', port }],
      connectionsPerServer: 2,
      logger: memoryLogger(),
      onResponse: (r) => got.push(r),
      secret: 'ignored in this protocol',
    });
    try {
      client.start();
      await client.waitForConnections(2);
      await until(() => server.peerCount === 2, 'two peers');
      for (let p = 50000; p < 50100; p++) client.register(session(p));
      await until(() => server.routing.size === 100, '100 registrations');
      for (let p = 50000; p < 50100; p++)
        assert.equal(server.sendResponse(reply(p, p, PSH_ACK, p - 50000)).kind, 'routed');
      await until(() => got.length === 100, '100 replies');
      assert.deepEqual(
        got.map((r) => r.tcpHeader.readUInt16BE(2)).sort(),
        Array.from({ length: 100 }, (_, i) => 50000 + i),
      );
      for (const r of got) assert.equal(r.payloadLength, r.tcpHeader.readUInt16BE(2) - 50000);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
