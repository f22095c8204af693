// ReplyCoalescer: which back-to-back replies of a batch are folded into one RESPONSE, and what the
// folded RESPONSE says (first sequence number, summed length, last acknowledgement/window/options,
// PSH kept) — read back through tcpcopy's own TargetHeader conversion.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LinkType, PacketDecoder, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import type { TcpPacketSpec } from '../../src/packet/index.js';
import { ReplyCoalescer } from '../../src/intercept/coalesce.js';
import { responseFromDecoder } from '../../src/intercept/index.js';
import type { ResponseMessage } from '../../src/channel/index.js';
import { targetHeaderFromResponse } from '../../src/tcpcopy/index.js';

const { ACK, PSH, FIN, SYN, RST, URG } = TcpFlags;

function seg(over: Partial<TcpPacketSpec>): TcpPacketSpec {
  return {
    family: 4,
    src: '10.77.0.3',
    dst: '10.77.0.1',
    srcPort: 8080,
    dstPort: 40000,
    seq: 1000,
    ack: 5000,
    flags: ACK | PSH,
    window: 500,
    ttl: 64,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 10, tsecr: 20 }],
    payload: Buffer.alloc(200, 0x48),
    ...over,
  };
}

/** Runs a batch through the coalescer as intercept does; returns the RESPONSEs it relays, in order. */
function relay(batch: TcpPacketSpec[], co = new ReplyCoalescer()): ResponseMessage[] {
  const out: ResponseMessage[] = [];
  const dec = new PacketDecoder();
  for (const spec of batch) {
    const buf = buildTcpPacket(spec);
    assert.ok(dec.decode(buf, 0, buf.length, LinkType.RAW));
    if (co.fold(dec)) continue;
    const r = responseFromDecoder(dec);
    assert.ok(r);
    const p = co.take();
    if (p) out.push(p);
    co.hold(r, dec);
  }
  const p = co.take();
  if (p) out.push(p);
  return out;
}

void describe('ReplyCoalescer', () => {
  void test('headers then body: one RESPONSE from the first seq, both lengths, the last ack/window/timestamps, PSH kept', () => {
    const co = new ReplyCoalescer();
    const out = relay(
      [
        seg({ seq: 0xffffff00, flags: ACK | PSH, payload: Buffer.alloc(200) }),
        seg({
          seq: 0xffffffc8,
          ack: 5100,
          window: 700,
          flags: ACK,
          payload: Buffer.alloc(612),
          options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 11, tsecr: 21 }],
        }),
      ],
      co,
    );
    assert.equal(out.length, 1);
    assert.equal(co.merged, 1);
    const h = targetHeaderFromResponse(out[0]!);
    assert.deepEqual(
      [h.seq, h.ack, h.window, h.flags, h.payloadLength, h.options.tsval, h.options.tsecr],
      [0xffffff00, 5100, 700, ACK | PSH, 812, 11, 21],
    );
  });

  void test('three in a row and a FIN at the end fold into one that ends the stream', () => {
    const out = relay([
      seg({ seq: 1 }),
      seg({ seq: 201, flags: ACK }),
      seg({ seq: 401, flags: ACK | FIN, payload: Buffer.alloc(5) }),
    ]);
    assert.equal(out.length, 1);
    const h = targetHeaderFromResponse(out[0]!);
    assert.deepEqual([h.seq, h.payloadLength, h.flags], [1, 405, ACK | PSH | FIN]);
  });

  const kept: [string, TcpPacketSpec[]][] = [
    ['another session (client port)', [seg({}), seg({ seq: 1200, dstPort: 40001 })]],
    ['another session (client address)', [seg({}), seg({ seq: 1200, dst: '10.77.0.9' })]],
    ['another session (target address)', [seg({}), seg({ seq: 1200, src: '10.77.0.5' })]],
    ['a gap in sequence', [seg({}), seg({ seq: 1300 })]],
    ['a retransmission', [seg({}), seg({ seq: 1000 })]],
    [
      'a pure ACK after data (a duplicate acknowledgement must reach tcpcopy)',
      [seg({}), seg({ seq: 1200, payload: Buffer.alloc(0), flags: ACK })],
    ],
    ['data after a pure ACK', [seg({ payload: Buffer.alloc(0), flags: ACK }), seg({ seq: 1000 })]],
    ['two pure ACKs', [seg({ payload: Buffer.alloc(0), flags: ACK }), seg({ payload: Buffer.alloc(0), flags: ACK })]],
    ['data after FIN', [seg({ flags: ACK | FIN }), seg({ seq: 1201 })]],
    ['an RST', [seg({}), seg({ seq: 1200, flags: RST | ACK, payload: Buffer.alloc(0) })]],
    ['urgent data (its pointer counts from its own segment)', [seg({}), seg({ seq: 1200, flags: ACK | URG })]],
    ['after urgent data', [seg({ flags: ACK | URG }), seg({ seq: 1200 })]],
    ['after a SYN-ACK', [seg({ flags: SYN | ACK, payload: Buffer.alloc(0) }), seg({ seq: 1001 })]],
    ['an older acknowledgement', [seg({ ack: 6000 }), seg({ seq: 1200, ack: 5999 })]],
    [
      'IPv6 of another client',
      [
        seg({ family: 6, src: 'fd77::3', dst: 'fd77::1' }),
        seg({ family: 6, src: 'fd77::3', dst: 'fd77::9', seq: 1200 }),
      ],
    ],
  ];
  for (const [name, batch] of kept) {
    void test(`not folded: ${name}`, () => {
      const co = new ReplyCoalescer();
      const out = relay(batch, co);
      assert.equal(out.length, batch.length);
      assert.equal(co.merged, 0);
      out.forEach((r, i) => assert.equal(targetHeaderFromResponse(r).seq, batch[i]!.seq));
    });
  }

  void test('IPv6 of one session folds', () => {
    const out = relay([
      seg({ family: 6, src: 'fd77::3', dst: 'fd77::1' }),
      seg({ family: 6, src: 'fd77::3', dst: 'fd77::1', seq: 1200, flags: ACK }),
    ]);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.payloadLength, 400);
  });

  void test('interleaved sessions are relayed as captured, nothing folded across them', () => {
    const out = relay([seg({}), seg({ dstPort: 40001 }), seg({ seq: 1200 }), seg({ dstPort: 40001, seq: 1200 })]);
    assert.deepEqual(
      out.map((r) => targetHeaderFromResponse(r).dstPort),
      [40000, 40001, 40000, 40001],
    );
  });
});
