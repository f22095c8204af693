// The Replicator on fakes (test/support/fakes.ts), no root: captured client packets come from a
// FakeSource, what it sends lands in a FakeSink, and intercept is a FakeChannelClient the test
// connects, disconnects and delivers the target's replies through. The packets are real bytes
// (buildTcpPacket), the replies are what intercept makes of the target's packets (responseFromDecoder).
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTransfers } from '../../src/cli/options/index.js';
import type { ResponseMessage } from '../../src/channel/index.js';
import { responseFromDecoder } from '../../src/intercept/index.js';
import { LinkType, PacketDecoder, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import type { TcpPacketSpec } from '../../src/packet/index.js';
import { Replicator } from '../../src/tcpcopy/index.js';
import type { ReplicatorConfig } from '../../src/tcpcopy/config.js';
import { FakeChannelClient, FakeSink, FakeSource, assertCounters, recordingLogger } from '../support/fakes.js';

const { SYN, ACK, PSH, RST } = TcpFlags;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n');

const CONFIG: ReplicatorConfig = {
  transfers: parseTransfers('80-10.77.0.3:8080'),
  captureFilter: 'tcp port 80',
  intercepts: [{ ip: { text: '10.77.0.9', family: 4 }, port: 36524 }],
  connectionsPerIntercept: 2,
  interfaces: [],
  captureBufferBytes: 1 << 20,
  snaplenBytes: 65535,
  mtuBytes: 1500,
  mssBytes: 1460,
  sessionTimeoutMs: 120_000,
  keepaliveTimeoutMs: 120_000,
  synRequired: false,
  waitForResponse: true,
  maxBacklogBytes: 0,
  copies: 1,
  samplePercent: 100,
  clientAddresses: [],
  localhostAddress: null,
  portFactor: 0,
  rampMs: 0,
  secret: 'secret',
  statsIntervalMs: 0,
  outputDevice: null,
  tcpcopy1: false,
  mysql: null,
};

/** The client's packets to the online server 10.77.0.2:80. */
function fromClient(port: number, spec: Partial<TcpPacketSpec>): Buffer {
  return buildTcpPacket({
    family: 4,
    src: '10.77.0.1',
    dst: '10.77.0.2',
    srcPort: port,
    dstPort: 80,
    seq: 1001,
    ack: 5001,
    flags: ACK,
    window: 502,
    ...spec,
  });
}

const clientSyn = (port: number): Buffer =>
  fromClient(port, {
    seq: 1000,
    ack: 0,
    flags: SYN,
    window: 64240,
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamps', tsval: 1, tsecr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 7 },
    ],
  });

/** What intercept relays of a target packet to the copied client 10.77.0.1. */
function targetReply(port: number, spec: Partial<TcpPacketSpec>): ResponseMessage {
  const bytes = buildTcpPacket({
    family: 4,
    src: '10.77.0.3',
    dst: '10.77.0.1',
    srcPort: 8080,
    dstPort: port,
    seq: 7001,
    ack: 1001,
    flags: ACK,
    window: 509,
    ...spec,
  });
  const dec = new PacketDecoder();
  assert.ok(dec.decode(bytes, 0, bytes.length, LinkType.RAW));
  const r = responseFromDecoder(dec);
  assert.ok(r !== null);
  return r;
}

/** The copies the replicator sends: the client's packets to the target 10.77.0.3:8080. */
function toTarget(port: number, spec: Partial<TcpPacketSpec>): Buffer {
  return buildTcpPacket({
    family: 4,
    src: '10.77.0.1',
    dst: '10.77.0.3',
    srcPort: port,
    dstPort: 8080,
    seq: 1001,
    ack: 7001,
    flags: ACK,
    window: 65535,
    ...spec,
  });
}

/** Lets the input's handlers finish: sends are flushed from process.nextTick. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Rig {
  replicator: Replicator;
  source: FakeSource;
  sink: FakeSink;
  client: FakeChannelClient;
  events: string[];
  lines: string[];
  connections: number[];
  clock: { now: number };
}

async function rig(config: ReplicatorConfig = CONFIG): Promise<Rig> {
  const events: string[] = [];
  const sink = new FakeSink(events);
  const source = new FakeSource();
  const { logger, lines } = recordingLogger();
  const clock = { now: 10_000 };
  const connections: number[] = [];
  let client: FakeChannelClient | null = null;
  const families: number[] = [];
  const replicator = new Replicator({
    config,
    logger,
    source,
    nowMs: () => clock.now,
    onConnectionsChange: (n) => connections.push(n),
    io: {
      openSender: (family) => {
        families.push(family);
        return Promise.resolve(sink);
      },
      openChannel: (o) => (client = new FakeChannelClient(o, events)),
    },
  });
  assert.ok(client !== null, 'the channel end is opened with the replicator');
  const c: FakeChannelClient = client;
  assert.equal(c.started, false);
  await replicator.start();
  assert.deepEqual(families, [4], 'one sender per target family');
  assert.equal(c.started, true);
  assert.equal(c.options.transientResponses, true);
  assert.deepEqual(c.options.servers, [{ host: '10.77.0.9', port: 36524 }]);
  assert.equal(c.options.connectionsPerServer, 2);
  assert.equal(c.options.secret, 'secret');
  return { replicator, source, sink, client: c, events, lines, connections, clock };
}

void describe('Replicator on fakes', () => {
  let r: Rig | null = null;
  afterEach(async () => {
    await r?.replicator.stop();
    r = null;
  });

  void test('a captured SYN opens a session: registered with intercept, then a SYN from the client to the target port', async () => {
    r = await rig();
    r.source.emitBatch(clientSyn(40000));
    assert.deepEqual(r.sink.sent, [], 'sent from process.nextTick, after the batch');
    await turn();
    assert.deepEqual(r.client.registered, [
      { family: 4, clientIp: '10.77.0.1', clientPort: 40000, targetIp: '10.77.0.3', targetPort: 8080 },
    ]);
    assert.deepEqual(
      r.events,
      ['register 40000', 'flush', 'send 1'],
      'the registration is written before the SYN goes out',
    );
    // The client's ISN and options, SACK-permitted dropped; the window of the copies is 65535.
    const syn = toTarget(40000, {
      seq: 1000,
      ack: 0,
      flags: SYN,
      options: [
        { kind: 'mss', value: 1460 },
        { kind: 'timestamps', tsval: 1, tsecr: 0 },
        { kind: 'nop' },
        { kind: 'wscale', shift: 7 },
      ],
    });
    assert.deepEqual(r.sink.sent, [syn]);
    assertCounters(r.replicator.counters(), {
      capturedPackets: 1,
      synCount: 1,
      sendSyn: 1,
      send: 1,
      active: 1,
      conns: 0,
    });
  });

  void test('the request waits for the handshake: the SYN-ACK relayed by intercept sends it, the ACK of it sends nothing', async () => {
    r = await rig();
    r.source.emitBatch(
      clientSyn(40001),
      fromClient(40001, {}),
      fromClient(40001, { flags: ACK | PSH, payload: REQUEST }),
    );
    await turn();
    assert.equal(r.sink.sent.length, 1, 'only the SYN before the target answered');
    r.client.reply(
      targetReply(40001, { seq: 7000, ack: 1001, flags: SYN | ACK, options: [{ kind: 'mss', value: 1460 }] }),
    );
    await turn();
    assert.deepEqual(
      r.sink.sent.slice(1),
      [toTarget(40001, { flags: ACK | PSH, payload: REQUEST })],
      'the request, acknowledging the target ISN + 1',
    );
    assert.equal(r.replicator.counters().conns, 1);
    r.client.reply(targetReply(40001, { ack: 1001 + REQUEST.length }));
    await turn();
    assert.equal(r.sink.sent.length, 2);
    assertCounters(r.replicator.counters(), { resp: 2, send: 2, sendContent: 1, clientContent: 1, sendErrors: 0 });
  });

  void test('a target RST closes the session: unregistered with intercept and counted by reason in the summary', async () => {
    r = await rig();
    r.source.emitBatch(clientSyn(40002));
    await turn();
    r.client.reply(targetReply(40002, { seq: 0, ack: 1001, flags: RST | ACK }));
    await turn();
    assert.deepEqual(r.client.unregistered, [
      { family: 4, clientIp: '10.77.0.1', clientPort: 40002, targetIp: '10.77.0.3', targetPort: 8080 },
    ]);
    assert.equal(r.replicator.closeReasons.get('targetReset'), 1);
    await r.replicator.stop();
    assert.ok(r.lines.includes('[notice] closed: target reset 1'), r.lines.join('\n'));
  });

  void test('packets the sender refuses are counted as send errors, in the counters and in the summary', async () => {
    r = await rig();
    r.sink.failNext = 2;
    r.source.emitBatch(clientSyn(40003), clientSyn(40004), clientSyn(40005));
    await turn();
    assert.deepEqual(r.sink.calls, [3], 'one send per turn');
    assert.equal(r.sink.sent.length, 1);
    assertCounters(
      r.replicator.counters(),
      { sendErrors: 2, sendSyn: 3 },
      'the engine counts what it emitted; the sender what failed',
    );
    await r.replicator.stop();
    assert.equal(r.sink.closed, true);
    assert.equal(r.client.closed, true);
    assert.equal(r.source.closed, true);
    assert.ok(r.lines.includes('[notice] capture dropped:0,send errors:2,buffer overflow:0'), r.lines.join('\n'));
  });

  void test('a capture source counts its drops in the statistics', async () => {
    r = await rig();
    r.source.dropped = 7;
    assert.equal(r.replicator.counters().captureDrops, 7);
  });
});

void describe('Replicator on fakes: the channel lost', () => {
  let r: Rig | null = null;
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(async () => {
    await r?.replicator.stop();
    r = null;
    mock.timers.reset();
  });

  void test('connection changes are reported and logged; sessions go on being copied and registered', async () => {
    r = await rig();
    r.client.connections(2);
    r.client.connections(0);
    assert.deepEqual(r.connections, [2, 0], "what the CLI's lonely watch hears");
    assert.ok(r.lines.includes('[notice] channel: 2 connection(s) to intercept authenticated'));
    assert.ok(r.lines.includes('[notice] channel: 0 connection(s) to intercept authenticated'));
    r.source.emitBatch(clientSyn(40006));
    await turn();
    assert.equal(r.sink.sent.length, 1, 'the SYN goes out while intercept is away');
    assert.deepEqual(
      r.client.registered.map((s) => s.clientPort),
      [40006],
      'handed to the channel end, which re-registers on reconnect',
    );
  });

  void test('no intercept for 5 s: the diagnosis names the intercepts, once per 30 s', async () => {
    r = await rig();
    r.client.connections(0);
    const warning = '[warn] diagnosis: no connection to intercept (10.77.0.9:36524) for 5 s';
    const diagnosed = (): number => r!.lines.filter((l) => l.startsWith(warning)).length;
    for (let s = 1; s <= 5; s++) {
      r.clock.now += 1000;
      mock.timers.tick(1000);
    }
    assert.equal(diagnosed(), 0, 'not before 5 s');
    r.clock.now += 1000;
    mock.timers.tick(1000);
    assert.equal(diagnosed(), 1, r.lines.join('\n'));
    r.clock.now += 1000;
    mock.timers.tick(1000);
    assert.equal(diagnosed(), 1);
    r.client.connections(1);
    r.clock.now += 1000;
    mock.timers.tick(1000);
    assert.equal(r.lines.filter((l) => l.startsWith('[warn] diagnosis')).length, 1);
  });
});
