// The intercept service on fakes (test/support/fakes.ts), no root: the target's replies come from a
// FakeSource per -i device (Ethernet frames of real packets), and intercept's end of the channel is
// a FakeReplyRouter over the real RoutingTable, whose tcpcopy connections, registrations and losses
// the test plays.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveCaptureOptions } from '../../src/capture/index.js';
import type { ResponseMessage, SessionKey } from '../../src/channel/index.js';
import { InterceptService, responseFromDecoder } from '../../src/intercept/index.js';
import type { InterceptConfig } from '../../src/intercept/config.js';
import { LinkType, PacketDecoder, TcpFlags, buildEthernetFrame, buildTcpPacket } from '../../src/packet/index.js';
import type { TcpPacketSpec } from '../../src/packet/index.js';
import { FakeReplyRouter, FakeSource, assertCounters, recordingLogger } from '../support/fakes.js';

const { SYN, ACK, PSH } = TcpFlags;

const CONFIG: InterceptConfig = {
  interfaces: ['eth1', 'eth2'],
  captureFilter: 'tcp and src port 8080',
  listenPort: 36524,
  bindAddress: null,
  logFile: null,
  pidFile: null,
  user: null,
  daemon: false,
  secret: 'secret',
  statsIntervalMs: 0,
  tcpcopy1: false,
  tcpcopy1AllowedPeers: [],
  nfqueuePorts: [],
  queueNum: 0,
  passList: [],
  replyPayloadBytes: 512,
  metrics: null,
  logFormat: 'text',
};

/** The session of the copied client 10.77.0.1:port with the target 10.77.0.3:8080. */
const session = (port: number): SessionKey => ({
  family: 4,
  clientIp: '10.77.0.1',
  clientPort: port,
  targetIp: '10.77.0.3',
  targetPort: 8080,
});

function replySpec(port: number, spec: Partial<TcpPacketSpec>): TcpPacketSpec {
  return {
    family: 4,
    src: '10.77.0.3',
    dst: '10.77.0.1',
    srcPort: 8080,
    dstPort: port,
    seq: 7001,
    ack: 1001,
    flags: ACK,
    window: 509,
    ttl: 63,
    ...spec,
  };
}

/** A target reply as captured on an Ethernet device. */
function frame(port: number, spec: Partial<TcpPacketSpec> = {}): Buffer {
  return buildEthernetFrame({
    src: '02:00:00:00:00:03',
    dst: '02:00:00:00:00:09',
    payload: buildTcpPacket(replySpec(port, spec)),
  });
}

/** The RESPONSE intercept makes of that reply. */
function response(port: number, spec: Partial<TcpPacketSpec> = {}): ResponseMessage {
  const bytes = buildTcpPacket(replySpec(port, spec));
  const dec = new PacketDecoder();
  assert.ok(dec.decode(bytes, 0, bytes.length, LinkType.RAW));
  const r = responseFromDecoder(dec);
  assert.ok(r !== null);
  return r;
}

interface Rig {
  service: InterceptService;
  router: FakeReplyRouter;
  captures: Map<string, FakeSource>;
  opened: LiveCaptureOptions[];
  lines: string[];
  clock: { now: number };
}

async function rig(config: InterceptConfig = CONFIG): Promise<Rig> {
  const { logger, lines } = recordingLogger();
  const clock = { now: 50_000 };
  const captures = new Map<string, FakeSource>();
  const opened: LiveCaptureOptions[] = [];
  let router: FakeReplyRouter | null = null;
  const service = new InterceptService({
    config,
    logger,
    nowMs: () => clock.now,
    io: {
      openChannel: (onRegister) => (router = new FakeReplyRouter(onRegister, () => clock.now)),
      openCapture: (o) => {
        opened.push(o);
        const c = new FakeSource(LinkType.EN10MB);
        captures.set(o.device, c);
        return c;
      },
    },
  });
  assert.ok(router !== null, 'the channel end is opened with the service');
  const r: FakeReplyRouter = router;
  await service.start();
  return { service, router: r, captures, opened, lines, clock };
}

void describe('intercept service on fakes', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.service.stop();
    r = null;
  });

  void test('start: listens, then one immediate-delivery capture per -i device, headers and --reply-payload bytes', async () => {
    r = await rig();
    assert.equal(r.router.listening, true);
    assert.deepEqual(r.opened, [
      { device: 'eth1', filter: 'tcp and src port 8080', snaplen: 256 + 512, timeoutMs: 0, bufferBytes: 32 << 20 },
      { device: 'eth2', filter: 'tcp and src port 8080', snaplen: 256 + 512, timeoutMs: 0, bufferBytes: 32 << 20 },
    ]);
    assert.ok(
      r.lines.includes(
        '[notice] intercept listening on 0.0.0.0:36524, capturing on eth1,eth2 with filter "tcp and src port 8080"',
      ),
      r.lines.join('\n'),
    );
  });

  void test('a captured reply goes to the tcpcopy connection that registered its session, on any device', async () => {
    r = await rig();
    const a = r.router.connect('a');
    const b = r.router.connect('b');
    r.router.register(a, session(40000));
    r.router.register(b, session(40001));
    r.captures
      .get('eth1')!
      .emitBatch(frame(40001, { seq: 7000, flags: SYN | ACK }), frame(40000, { seq: 7000, flags: SYN | ACK }));
    r.captures.get('eth2')!.emitBatch(frame(40000));
    assert.deepEqual(a.received, [response(40000, { seq: 7000, flags: SYN | ACK }), response(40000)]);
    assert.deepEqual(b.received, [response(40001, { seq: 7000, flags: SYN | ACK })]);
    assertCounters(r.service.counters(), {
      capturedPackets: 3,
      responsePackets: 3,
      routedResponses: 3,
      routeHits: 3,
      socketWrites: 3,
      routeMisses: 0,
      lostResponses: 0,
      registeredSessions: 2,
      registrations: 2,
      connectedPeers: 2,
    });
  });

  void test('replies of sessions nobody registered are not sent: counted as misses; a SYN-ACK waits for its registration', async () => {
    r = await rig();
    const a = r.router.connect('a');
    r.captures.get('eth1')!.emitBatch(frame(40002), frame(40003, { seq: 7000, flags: SYN | ACK }));
    assert.deepEqual(a.received, []);
    assertCounters(
      r.service.counters(),
      { responsePackets: 2, routedResponses: 0, routeMisses: 2 },
      'one dropped, one parked',
    );
    r.router.register(a, session(40003));
    assert.deepEqual(
      a.received,
      [response(40003, { seq: 7000, flags: SYN | ACK })],
      'the parked SYN-ACK, on registration',
    );
    assertCounters(
      r.service.counters(),
      { routedResponses: 1, routeHits: 0 },
      'delivered from the parking, not found on arrival',
    );
  });

  void test('a lost tcpcopy connection takes its routes with it; the others keep theirs', async () => {
    r = await rig();
    const a = r.router.connect('a');
    const b = r.router.connect('b');
    r.router.register(a, session(40004));
    r.router.register(a, session(40005));
    r.router.register(b, session(40006));
    r.router.disconnect(a);
    r.captures.get('eth1')!.emitBatch(frame(40004), frame(40005), frame(40006));
    assert.deepEqual(a.received, []);
    assert.deepEqual(b.received, [response(40006)]);
    assertCounters(r.service.counters(), {
      registeredSessions: 1,
      connectedPeers: 1,
      routedResponses: 1,
      routeMisses: 2,
    });
  });

  void test('replies the channel cannot take are counted lost; a failing channel end is logged and the batch goes on', async () => {
    r = await rig();
    const a = r.router.connect('a');
    r.router.register(a, session(40007));
    r.router.register(a, session(40008));
    a.writable = false;
    r.captures.get('eth1')!.emitBatch(frame(40007));
    a.writable = true;
    r.router.failWith = new Error('outbox full');
    r.captures
      .get('eth1')!
      .emitBatch(frame(40007, { seq: 7002 }), frame(40008, { flags: ACK | PSH, payload: Buffer.from('x') }));
    r.router.failWith = null;
    r.captures.get('eth1')!.emitBatch(frame(40008, { seq: 7002 }));
    assert.deepEqual(a.received, [response(40008, { seq: 7002 })]);
    assertCounters(
      r.service.counters(),
      { lostResponses: 3, socketWrites: 1 },
      'one refused by its socket, two by the channel end',
    );
    assert.deepEqual(
      r.lines.filter((l) => l.startsWith('[warn]')),
      ['[warn] reply to 10.77.0.1 not relayed: outbox full', '[warn] reply to 10.77.0.1 not relayed: outbox full'],
    );
  });

  void test('back-to-back data replies of one session go as one RESPONSE; what is not a whole TCP header is only counted as captured', async () => {
    r = await rig();
    const a = r.router.connect('a');
    r.router.register(a, session(40009));
    const head = Buffer.from('HTTP/1.1 200 OK\r\n\r\n');
    const body = Buffer.from('hello');
    const notTcp = buildEthernetFrame({
      src: '02:00:00:00:00:03',
      dst: '02:00:00:00:00:09',
      etherType: 0x0806,
      payload: Buffer.alloc(28),
    });
    r.captures
      .get('eth1')!
      .emitBatch(
        frame(40009, { payload: head }),
        frame(40009, { seq: 7001 + head.length, flags: ACK | PSH, payload: body }),
        notTcp,
      );
    // The later segment's header (its checksum left as is: tcpcopy reads no checksum), from the first one's sequence
    // number on.
    const folded = response(40009, { seq: 7001 + head.length, flags: ACK | PSH, payload: body });
    folded.tcpHeader.writeUInt32BE(7001, 4);
    folded.payloadLength = head.length + body.length;
    assert.deepEqual(a.received, [folded]);
    assertCounters(r.service.counters(), {
      capturedPackets: 3,
      responsePackets: 2,
      mergedReplies: 1,
      routedResponses: 1,
    });
  });

  void test('--reply-payload: a session that asked gets its folded replies with their payload in order, the others none', async () => {
    r = await rig({ ...CONFIG, replyPayloadBytes: 20 });
    const a = r.router.connect('a');
    r.router.register(a, session(40010));
    r.router.register(a, session(40011));
    r.router.wantPayload(a, session(40010), 64);
    const greeting = Buffer.from('\x0a5.5.5-10.11.19-MariaDB\x00', 'latin1');
    const more = Buffer.from('scramble');
    r.captures
      .get('eth1')!
      .emitBatch(
        frame(40010, { payload: greeting }),
        frame(40010, { seq: 7001 + greeting.length, flags: ACK | PSH, payload: more }),
        frame(40011, { payload: greeting }),
      );
    assert.equal(a.received.length, 2);
    // Folded: the first 20 bytes (intercept's bound) of the two segments' bytes in order.
    assert.deepEqual(a.received[0]!.payload, Buffer.concat([greeting, more]).subarray(0, 20));
    assert.equal(a.received[0]!.payloadLength, greeting.length + more.length);
    assert.equal(a.received[1]!.payload, undefined);
    assert.equal(a.received[1]!.payloadLength, greeting.length);
    // Nobody asks any more: no payload is copied at all.
    r.router.wantPayload(a, session(40010), 0);
    r.captures.get('eth1')!.emitBatch(frame(40010, { seq: 9000, payload: greeting }));
    assert.deepEqual(a.received[2], response(40010, { seq: 9000, payload: greeting }));
  });

  void test('--tcpcopy1: every captured reply is relayed as its own', async () => {
    r = await rig({ ...CONFIG, tcpcopy1: true, secret: null });
    const a = r.router.connect('a');
    r.router.register(a, session(40010));
    r.captures
      .get('eth1')!
      .emitBatch(frame(40010, { payload: Buffer.from('ab') }), frame(40010, { seq: 7003, payload: Buffer.from('cd') }));
    assert.deepEqual(a.received, [
      response(40010, { payload: Buffer.from('ab') }),
      response(40010, { seq: 7003, payload: Buffer.from('cd') }),
    ]);
    assert.equal(r.service.counters().mergedReplies, 0);
  });

  void test('stop: captures and the channel end closed, replies after it ignored, the summary logged', async () => {
    r = await rig();
    const a = r.router.connect('a');
    r.router.register(a, session(40011));
    r.captures.get('eth2')!.dropped = 4;
    r.captures.get('eth1')!.emitBatch(frame(40011));
    r.clock.now += 2500;
    await r.service.stop();
    assert.equal(r.router.closed, true);
    assert.deepEqual(
      [...r.captures.values()].map((c) => c.closed),
      [true, true],
    );
    r.captures.get('eth1')!.emitBatch(frame(40011, { seq: 7002 }));
    assert.equal(a.received.length, 1);
    const summary = r.lines.slice(r.lines.indexOf('[notice] intercept summary after 2.5 s:'));
    assert.deepEqual(summary, [
      '[notice] intercept summary after 2.5 s:',
      '[notice] total resp packs:1, all:1, route:1, sock write cnt:1',
      '[notice] cache hit:1,missed:0,lost:0',
      '[notice] sessions:1,registered:1,expired:0',
      '[notice] peers:1,refused peers:0,capture dropped:4',
      '[notice] misrouted:0,foreign unregistrations:0,merged replies:0',
    ]);
  });

  void test('without a secret (and not --tcpcopy1) the real channel end refuses to start', () => {
    const { logger } = recordingLogger();
    assert.throws(
      () =>
        new InterceptService({
          config: { ...CONFIG, secret: null },
          logger,
          io: { openCapture: () => new FakeSource() },
        }),
      /NO_SECRET|shared secret/,
    );
  });
});
