// Reassembler and sequence arithmetic: wrap-around, duplicates while out of order, FIN, gap skipping;
// a whole session across the 2^32 wrap; an IPv6 session end to end through emitSegment.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { emitSegment } from '../../src/packet/index.js';
import { Reassembler, SessionEngine, seqAdd, seqDiff, seqLt, seqMax } from '../../src/session/index.js';
import type { OutgoingSegment, StreamChunk } from '../../src/session/index.js';
import { Harness, clt, copySegment, tgt, seg, opts, SYN, ACK, PSH, FIN } from './trace.js';

function collect(): { chunks: StreamChunk[]; deliver: (c: StreamChunk) => void } {
  const chunks: StreamChunk[] = [];
  return {
    chunks,
    deliver: (c) => {
      chunks.push(c);
    },
  };
}

const b = (s: string): Buffer => Buffer.from(s);

describe('sequence arithmetic', () => {
  test('wraps modulo 2^32', () => {
    assert.equal(seqAdd(0xffffffff, 2), 1);
    assert.equal(seqDiff(1, 0xffffffff), 2);
    assert.ok(seqLt(0xfffffff0, 5));
    assert.equal(seqMax(0xfffffff0, 5), 5);
  });
});

describe('Reassembler', () => {
  test('out-of-order duplicates keep the longer copy; FIN ends the stream', () => {
    const r = new Reassembler(100);
    const { chunks, deliver } = collect();
    assert.equal(r.insert(104, b('ef'), false, 1, 0, deliver), 'outOfOrder');
    assert.equal(r.insert(104, b('efgh'), false, 1, 0, deliver), 'outOfOrder');
    assert.equal(r.heldBytes, 4);
    assert.equal(r.insert(108, b(''), true, 1, 0, deliver), 'outOfOrder');
    assert.equal(r.insert(100, b('abcd'), false, 1, 1, deliver), 'inOrder');
    assert.deepEqual(
      chunks.map((c) => [c.seq, c.data.toString(), c.fin]),
      [
        [100, 'abcd', false],
        [104, 'efgh', false],
        [108, '', true],
      ],
    );
    assert.equal(r.insert(109, b('x'), false, 1, 2, deliver), 'afterFin');
    assert.equal(r.hasGap, false);
  });

  test('gap skipping shifts later chunks and reports the skipped length', () => {
    const r = new Reassembler(0xfffffffe);
    const { chunks, deliver } = collect();
    r.insert(3, b('zz'), false, 7, 10, deliver);
    assert.equal(r.gapDeadlineMs(50), 60);
    assert.equal(r.skipGap(60, deliver), 5);
    assert.equal(r.insert(5, b('yy'), false, 7, 61, deliver), 'inOrder');
    assert.deepEqual(
      chunks.map((c) => [c.seq, c.data.toString()]),
      [
        [0xfffffffe, 'zz'],
        [0, 'yy'],
      ],
    );
    assert.equal(r.gapDeadlineMs(50), Infinity);
  });
});

describe('whole sessions', () => {
  test('client and target sequence numbers wrapping past 2^32', () => {
    const h = new Harness();
    h.client(0, clt(0xfffffffe, 0, SYN));
    assert.deepEqual(h.target(1, tgt(0xfffffff0, 0xffffffff, SYN | ACK, 0, { mss: 1460 })), [
      seg(0xffffffff, 0xfffffff1, ACK),
    ]);
    assert.deepEqual(h.client(2, clt(0xffffffff, 0xfffffffa, ACK | PSH, 'wrap')), [
      seg(0xffffffff, 0xfffffff1, ACK | PSH, 'wrap'),
    ]);
    assert.deepEqual(h.target(3, tgt(0xfffffff1, 3, ACK | PSH, 32)), []);
    assert.deepEqual(h.client(4, clt(3, 26, ACK | FIN)), [seg(3, 17, ACK | FIN)]);
    assert.deepEqual(h.target(5, tgt(17, 4, ACK | FIN)), [seg(4, 18, ACK), seg(4, 18, 0x014)]);
  });

  test('an IPv6 session: tuple, handshake and an emitted IPv6 packet', () => {
    const out: OutgoingSegment[] = [];
    const e = new SessionEngine(
      (ip, port) => (ip === 'fd00::2' && port === 80 ? { ip: 'fd00::3', port: 8080 } : undefined),
      {
        sendSegment: (s) => {
          out.push(copySegment(s));
        },
        registerSession: () => undefined,
      },
    );
    const base = {
      family: 6 as const,
      src: 'fd00::1',
      srcPort: 5555,
      dst: 'fd00::2',
      dstPort: 80,
      window: 100,
      options: opts(),
    };
    e.onClientPacket(0, { ...base, seq: 10, ack: 0, flags: SYN, payload: b('') });
    e.onTargetResponse(1, {
      src: 'fd00::3',
      srcPort: 8080,
      dst: 'fd00::1',
      dstPort: 5555,
      seq: 500,
      ack: 11,
      flags: SYN | ACK,
      window: 1000,
      options: opts({ mss: 1440 }),
      payloadLength: 0,
    });
    e.onClientPacket(2, { ...base, seq: 11, ack: 77, flags: ACK | PSH, payload: b('hi') });
    assert.deepEqual(
      out.map((s) => [s.dst, s.dstPort, s.seq, s.ack, s.flags]),
      [
        ['fd00::3', 8080, 10, 0, SYN],
        ['fd00::3', 8080, 11, 501, ACK],
        ['fd00::3', 8080, 11, 501, ACK | PSH],
      ],
    );
    const pkt = emitSegment(out[2]!);
    assert.equal(pkt.length, 40 + 20 + 2);
    assert.equal(pkt[0]! >> 4, 6);
    assert.equal(pkt.readUInt32BE(44), 11);
  });
});
