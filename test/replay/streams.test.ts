// streams.ts on scripted packets: turns from the client's ack advances (with and without the
// server's packets), retransmission/overlap trimming, reordering, pipelining, a session without SYN,
// a server-first protocol's greeting, session ends (FIN, RST, port reuse), and frame decoding.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConversationBuilder, decodeReplayPacket, emptyDecodeCounters } from '../../src/replay/socket/index.js';
import type { Conversation, ReplayPacket } from '../../src/replay/socket/index.js';
import { TcpFlags, LinkType, PacketDecoder, buildTcpPacket } from '../../src/packet/index.js';

const { SYN, ACK, PSH, FIN, RST } = TcpFlags;
const C = '10.1.0.1';
const S = '10.1.0.2';
const CISN = 1000;
const SISN = 5000;

function c2s(tsMs: number, seq: number, ack: number, flags: number, payload = '', port = 40000): ReplayPacket {
  return { tsMs, src: C, srcPort: port, dst: S, dstPort: 80, seq, ack, flags, payload: Buffer.from(payload) };
}
function s2c(
  tsMs: number,
  seq: number,
  ack: number,
  flags: number,
  payload: string | number = '',
  port = 40000,
): ReplayPacket {
  const data = typeof payload === 'number' ? Buffer.alloc(payload, 0x61) : Buffer.from(payload);
  return { tsMs, src: S, srcPort: 80, dst: C, dstPort: port, seq, ack, flags, payload: data };
}

function build(packets: ReplayPacket[]): { convs: Conversation[]; b: ConversationBuilder } {
  const b = new ConversationBuilder([80]);
  for (const p of packets) b.add(p);
  return { convs: b.finish(), b };
}

const turns = (c: Conversation): [number, string, number | null][] =>
  c.turns.map((t) => [t.offsetMs, t.data.toString(), t.replyBytes]);

describe('ConversationBuilder', () => {
  test('keep-alive requests with both directions: one turn per request, captured reply lengths', () => {
    const { convs, b } = build([
      c2s(100, CISN, 0, SYN),
      s2c(101, SISN, CISN + 1, SYN | ACK),
      c2s(102, CISN + 1, SISN + 1, ACK),
      c2s(103, CISN + 1, SISN + 1, ACK | PSH, 'GET /a'),
      s2c(104, SISN + 1, CISN + 7, ACK | PSH, 30),
      c2s(110, CISN + 7, SISN + 31, ACK | PSH, 'GET /b'),
      s2c(111, SISN + 31, CISN + 13, ACK, 1000),
      s2c(111, SISN + 1031, CISN + 13, ACK | PSH, 500),
      c2s(120, CISN + 13, SISN + 1531, ACK | FIN),
      s2c(121, SISN + 1531, CISN + 14, ACK | FIN),
    ]);
    assert.equal(convs.length, 1);
    const c = convs[0]!;
    assert.deepEqual(turns(c), [
      [3, 'GET /a', 30],
      [10, 'GET /b', 1500],
    ]);
    assert.equal(c.syn, true);
    assert.equal(c.greetingBytes, 0);
    assert.equal(c.end, 'clientFin');
    assert.equal(c.clientClose, 'fin');
    assert.equal(c.startMs, 100);
    assert.equal(b.counters.sessions, 1);
    assert.equal(b.counters.joined, 0);
    assert.equal(b.openSessions, 0, 'both FINs ended the session');
  });

  test('client side only: turns from ack advances; the last reply length is unknown', () => {
    const { convs } = build([
      c2s(0, CISN, 0, SYN),
      c2s(1, CISN + 1, SISN + 1, ACK),
      c2s(2, CISN + 1, SISN + 1, ACK | PSH, 'q1'),
      c2s(5, CISN + 3, SISN + 41, ACK | PSH, 'q2'),
      c2s(9, CISN + 5, SISN + 61, ACK | PSH, 'q3'),
    ]);
    assert.deepEqual(turns(convs[0]!), [
      [2, 'q1', 40],
      [5, 'q2', 20],
      [9, 'q3', null],
    ]);
    assert.equal(convs[0]!.serverSeen, false);
    assert.equal(convs[0]!.end, 'captureEnd');
  });

  test('retransmissions and overlaps are trimmed; reordered segments are put back in order', () => {
    const { convs, b } = build([
      c2s(0, CISN, 0, SYN),
      c2s(0, CISN, 0, SYN), // SYN retransmitted: same session
      c2s(1, CISN + 1, SISN + 1, ACK),
      c2s(2, CISN + 5, SISN + 1, ACK, 'EFGH'), // ahead of a hole
      c2s(3, CISN + 1, SISN + 1, ACK, 'ABCD'), // fills it
      c2s(4, CISN + 1, SISN + 1, ACK, 'ABCD'), // retransmission
      c2s(5, CISN + 7, SISN + 1, ACK | PSH, 'GHIJ'), // overlaps by 2
      s2c(6, SISN + 1, CISN + 11, ACK | PSH, 7),
    ]);
    assert.equal(convs.length, 1);
    assert.deepEqual(turns(convs[0]!), [[3, 'ABCDEFGHIJ', 7]]);
    assert.equal(b.counters.outOfOrder, 1);
    assert.equal(b.counters.retransmitted, 1);
    assert.equal(b.counters.overlapping, 1);
    assert.equal(b.counters.sessions, 1);
  });

  test('pipelined requests sent before any reply form one turn', () => {
    const { convs } = build([
      c2s(0, CISN, 0, SYN),
      s2c(0, SISN, CISN + 1, SYN | ACK),
      c2s(1, CISN + 1, SISN + 1, ACK),
      c2s(2, CISN + 1, SISN + 1, ACK | PSH, '*1\r\n$4\r\nPING\r\n'),
      c2s(2, CISN + 15, SISN + 1, ACK | PSH, '*1\r\n$4\r\nPING\r\n'),
      s2c(3, SISN + 1, CISN + 29, ACK | PSH, '+PONG\r\n+PONG\r\n'),
      c2s(4, CISN + 29, SISN + 15, ACK | PSH, '*1\r\n$4\r\nPING\r\n'),
      s2c(5, SISN + 15, CISN + 43, ACK | PSH, '+PONG\r\n'),
    ]);
    assert.deepEqual(
      turns(convs[0]!).map(([, d, r]) => [d.length, r]),
      [
        [28, 14],
        [14, 7],
      ],
    );
  });

  test('a session without SYN is replayed from its first data and counted as joined', () => {
    const { convs, b } = build([
      s2c(0, SISN + 100, CISN + 50, ACK, 10), // server data before the client spoke: no session yet
      c2s(1, CISN + 50, SISN + 200, ACK), // pure ACK: no session yet
      c2s(2, CISN + 50, SISN + 200, ACK | PSH, 'GET /x'),
      s2c(3, SISN + 200, CISN + 56, ACK | PSH, 99),
      c2s(4, CISN + 56, SISN + 299, ACK | RST),
      c2s(5, CISN + 56, SISN + 299, ACK | PSH, 'late'), // after the RST, no SYN: ignored
    ]);
    assert.equal(convs.length, 1);
    const c = convs[0]!;
    assert.equal(c.syn, false);
    assert.equal(c.startMs, 2);
    assert.equal(c.greetingBytes, 0, 'a joined session never waits for a greeting');
    assert.deepEqual(turns(c), [[0, 'GET /x', 99]]);
    assert.equal(c.end, 'clientRst');
    assert.equal(c.clientClose, 'rst');
    assert.equal(b.counters.joined, 1);
    assert.equal(b.counters.noSession, 2);
    assert.equal(b.counters.afterClose, 1);
  });

  test("server-first protocol: the greeting length comes from the client's first data ack", () => {
    const withServer = build([
      c2s(0, CISN, 0, SYN),
      s2c(1, SISN, CISN + 1, SYN | ACK),
      c2s(2, CISN + 1, SISN + 1, ACK),
      s2c(3, SISN + 1, CISN + 1, ACK | PSH, '220 ready\r\n'),
      c2s(4, CISN + 1, SISN + 12, ACK | PSH, 'HELO x\r\n'),
      s2c(5, SISN + 12, CISN + 9, ACK | PSH, '250 ok\r\n'),
    ]).convs[0]!;
    assert.equal(withServer.greetingBytes, 11);
    assert.deepEqual(turns(withServer), [[4, 'HELO x\r\n', 8]]);
    // The same with the client side only: the handshake ACK gives the server's ISN.
    const clientOnly = build([
      c2s(0, CISN, 0, SYN),
      c2s(2, CISN + 1, SISN + 1, ACK),
      c2s(4, CISN + 1, SISN + 12, ACK | PSH, 'HELO x\r\n'),
    ]).convs[0]!;
    assert.equal(clientOnly.greetingBytes, 11);
    assert.deepEqual(turns(clientOnly), [[4, 'HELO x\r\n', null]]);
  });

  test('server RST ends a session; a new SYN on the same 4-tuple starts another; sessions without data are skipped', () => {
    const { convs, b } = build([
      c2s(0, CISN, 0, SYN, '', 40001),
      c2s(1, CISN + 1, SISN + 1, ACK | PSH, 'one', 40001),
      s2c(2, SISN + 1, CISN + 4, RST, '', 40001),
      c2s(3, 9000, 0, SYN, '', 40001),
      c2s(4, 9001, 7001, ACK | PSH, 'two', 40001),
      c2s(5, 20000, 0, SYN, '', 40002), // never sends data
      c2s(6, 9004, 7001, ACK | FIN, '', 40001),
    ]);
    assert.deepEqual(
      convs.map((c) => [c.id, c.turns[0]!.data.toString(), c.end]),
      [
        [0, 'one', 'serverRst'],
        [1, 'two', 'clientFin'],
      ],
    );
    assert.equal(b.counters.noData, 1);
    assert.equal(b.counters.sessions, 3);
  });

  test('a capture hole that is never filled is skipped when the session ends', () => {
    const { convs, b } = build([
      c2s(0, CISN, 0, SYN),
      c2s(1, CISN + 1, SISN + 1, ACK | PSH, 'abc'),
      c2s(2, CISN + 10, SISN + 1, ACK | PSH, 'xyz'),
    ]);
    assert.equal(convs[0]!.turns[0]!.data.toString(), 'abcxyz');
    assert.equal(b.counters.gapBytes, 6);
  });

  test('takeClosed hands out ended sessions while others stay open', () => {
    const b = new ConversationBuilder([80]);
    b.add(c2s(0, CISN, 0, SYN, '', 1));
    b.add(c2s(1, CISN + 1, SISN + 1, ACK | PSH, 'a', 1));
    b.add(c2s(2, CISN, 0, SYN, '', 2));
    b.add(c2s(3, CISN + 1, SISN + 1, ACK | PSH, 'b', 2));
    b.add(c2s(4, CISN + 2, SISN + 1, RST, '', 1));
    assert.deepEqual(
      b.takeClosed().map((c) => c.clientPort),
      [1],
    );
    assert.equal(b.openSessions, 1);
    assert.deepEqual(
      b.finish().map((c) => c.clientPort),
      [2],
    );
  });
});

describe('decodeReplayPacket', () => {
  test('decodes TCP frames of the ports, counts the rest', () => {
    const b = new ConversationBuilder([80]);
    const counters = emptyDecodeCounters();
    const d = new PacketDecoder();
    const frame = buildTcpPacket({
      family: 4,
      window: 100,
      src: C,
      dst: S,
      srcPort: 40000,
      dstPort: 80,
      seq: 7,
      ack: 9,
      flags: ACK | PSH,
      payload: Buffer.from('hi'),
    });
    const p = decodeReplayPacket(d, frame, LinkType.RAW, 12.5, b, counters);
    assert.deepEqual(p && { ...p, payload: p.payload.toString() }, {
      tsMs: 12.5,
      src: C,
      srcPort: 40000,
      dst: S,
      dstPort: 80,
      seq: 7,
      ack: 9,
      flags: ACK | PSH,
      payload: 'hi',
    });
    const other = buildTcpPacket({
      family: 4,
      window: 100,
      src: C,
      dst: S,
      srcPort: 40000,
      dstPort: 81,
      seq: 7,
      ack: 9,
      flags: ACK,
      payload: Buffer.alloc(0),
    });
    assert.equal(decodeReplayPacket(d, other, LinkType.RAW, 0, b, counters), null);
    assert.equal(decodeReplayPacket(d, Buffer.from([0x45, 0, 0]), LinkType.RAW, 0, b, counters), null);
    const bytes = frame.length + other.length + 3;
    assert.deepEqual(counters, { read: 3, bytes, undecodable: 1, nonTcp: 0, truncated: 0, otherPorts: 1 });
  });
});

test('keepReplies (--compare-report): each turn gets the captured reply bytes and its first byte time; a greeting too', () => {
  const b = new ConversationBuilder([80], true);
  const packets = [
    c2s(0, CISN, 0, SYN),
    s2c(1, SISN, CISN + 1, SYN | ACK),
    c2s(2, CISN + 1, SISN + 1, ACK),
    s2c(3, SISN + 1, CISN + 1, ACK | PSH, 'HELLO\n'), // a greeting
    c2s(10, CISN + 1, SISN + 7, ACK | PSH, 'ONE\n'),
    s2c(12, SISN + 7, CISN + 5, ACK | PSH, 'first'),
    s2c(13, SISN + 7, CISN + 5, ACK | PSH, 'first'), // retransmitted: once
    s2c(14, SISN + 12, CISN + 5, ACK | PSH, ' reply\n'),
    c2s(20, CISN + 5, SISN + 19, ACK | PSH, 'TWO\n'),
    s2c(25, SISN + 19, CISN + 9, ACK | PSH | FIN, 'second\n'),
    c2s(26, CISN + 9, SISN + 27, ACK | FIN),
  ];
  for (const p of packets) b.add(p);
  const [c] = b.finish();
  assert.ok(c !== undefined);
  assert.equal(c.greetingReply?.toString(), 'HELLO\n');
  assert.deepEqual(
    c.turns.map((t) => [t.data.toString(), t.onlineReply?.toString(), t.onlineMs]),
    [
      ['ONE\n', 'first reply\n', 2],
      ['TWO\n', 'second\n', 5],
    ],
  );
  const [plain] = build(packets).convs;
  assert.equal(plain?.turns[0]?.onlineReply, undefined, 'not kept without keepReplies');
});
