// -M: no IP packet the engine emits is larger than maxIpPacketBytes. A data segment carries at most
// min(target MSS, limit − IP header − 20) − the option bytes it carries (12 with timestamps), on first
// send and on retransmission. Scripted traces: a 5000-byte request after a full handshake.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { emitSegment } from '../../src/packet/index.js';
import { SessionEngine } from '../../src/session/index.js';
import type { OutgoingSegment, SessionOptions, TcpOptionValues } from '../../src/session/index.js';
import { ACK, ONLINE, PSH, SYN, TARGET, TPORT, clt, copySegment, tgt } from './trace.js';

const REQUEST = Buffer.alloc(5000, 0x61);

interface Run {
  /** Payload sizes of the data segments sent for the request. */
  sizes: number[];
  /** Every packet emitted, as IP bytes. */
  packets: Buffer[];
  out: OutgoingSegment[];
  engine: SessionEngine;
}

/**
 * Client SYN (ISN 1000, timestamps if `ts`) → target SYN-ACK (MSS `targetMss`) → handshake ACK →
 * one 5000-byte request in a single captured segment (as GRO would hand it over).
 */
function replay(o: Partial<SessionOptions>, ts: boolean, targetMss = 1460, version: 4 | 6 = 4): Run {
  const out: OutgoingSegment[] = [];
  const v6 = version === 6;
  const targetIp = v6 ? 'fd77::3' : TARGET;
  const engine = new SessionEngine(
    (ip, port) => ((ip === ONLINE || ip === 'fd77::2') && port === 80 ? { ip: targetIp, port: TPORT } : undefined),
    {
      sendSegment: (s) => {
        out.push(copySegment(s));
      },
      registerSession: () => undefined,
    },
    o,
  );
  const tsOpt = (tsval: number, tsecr: number): Partial<TcpOptionValues> =>
    ts ? { hasTimestamps: true, tsval, tsecr } : {};
  const c = (seq: number, ack: number, flags: number, payload: Buffer | string, opt: Partial<TcpOptionValues>) => {
    const s = clt(seq, ack, flags, payload, opt);
    return v6 ? { ...s, family: 6 as const, src: 'fd77::1', dst: 'fd77::2' } : s;
  };
  const t = (seq: number, ack: number, flags: number, opt: Partial<TcpOptionValues>) => {
    const h = tgt(seq, ack, flags, 0, opt, 65535);
    return v6 ? { ...h, src: targetIp, dst: 'fd77::1' } : h;
  };
  engine.onClientPacket(0, c(1000, 0, SYN, '', { mss: 1460, windowScale: 7, ...tsOpt(100, 0) }));
  engine.onTargetResponse(1, t(9000, 1001, SYN | ACK, { mss: targetMss, windowScale: 7, ...tsOpt(500, 100) }));
  engine.onClientPacket(1, c(1001, 5001, ACK, '', tsOpt(101, 700)));
  const before = out.length;
  engine.onClientPacket(2, c(1001, 5001, ACK | PSH, REQUEST, tsOpt(102, 700)));
  const sizes = out
    .slice(before)
    .filter((s) => s.payload.length > 0)
    .map((s) => s.payload.length);
  return { sizes, packets: out.map((s) => emitSegment(s)), out, engine };
}

function split(total: number, each: number): number[] {
  const r: number[] = [];
  for (let left = total; left > 0; left -= each) r.push(Math.min(each, left));
  return r;
}

void describe('segment size under the IP packet limit', () => {
  void test('default 1500, no timestamps: MSS-sized segments, 1500-byte packets', () => {
    const r = replay({}, false);
    assert.deepEqual(r.sizes, split(5000, 1460));
    assert.equal(Math.max(...r.packets.map((p) => p.length)), 1500);
  });

  void test('default 1500 with timestamps: the 12 option bytes come off the payload (1448)', () => {
    const r = replay({}, true);
    assert.deepEqual(r.sizes, split(5000, 1448));
    const data = r.out.filter((s) => s.payload.length > 0);
    assert.ok(
      data.every((s) => s.options.some((o) => o.kind === 'timestamps')),
      'timestamps are emitted',
    );
    assert.equal(Math.max(...r.packets.map((p) => p.length)), 1500);
  });

  void test('-M 576 without timestamps: 536-byte payloads, no packet over 576', () => {
    const r = replay({ maxIpPacketBytes: 576 }, false);
    assert.deepEqual(r.sizes, split(5000, 536));
    assert.equal(Math.max(...r.packets.map((p) => p.length)), 576);
  });

  void test('-M 576 with timestamps: 524-byte payloads, no packet over 576', () => {
    const r = replay({ maxIpPacketBytes: 576 }, true);
    assert.deepEqual(r.sizes, split(5000, 524));
    assert.equal(Math.max(...r.packets.map((p) => p.length)), 576);
  });

  void test('a target MSS below the limit still rules (536 → 524 with timestamps)', () => {
    assert.deepEqual(replay({}, true, 536).sizes, split(5000, 524));
    assert.deepEqual(replay({ maxIpPacketBytes: 9000 }, false, 8960).sizes, [5000]);
  });

  void test('IPv6: the 40-byte IP header counts (1500 → 1428 with timestamps)', () => {
    const r = replay({}, true, 1460, 6);
    assert.deepEqual(r.sizes, split(5000, 1428));
    assert.equal(Math.max(...r.packets.map((p) => p.length)), 1500);
  });

  void test('retransmissions on the RTO respect the limit too', () => {
    const r = replay({ maxIpPacketBytes: 576 }, true);
    const before = r.out.length;
    const at = r.engine.nextDeadlineMs();
    assert.ok(at > 2, 'an RTO is armed for the unacknowledged request');
    r.engine.onTimer(at);
    const again = r.out.slice(before).filter((s) => s.payload.length > 0);
    assert.equal(again.length, 1);
    assert.equal(again[0]?.seq, 1001);
    assert.equal(again[0]?.payload.length, 524);
    assert.ok(again.every((s) => emitSegment(s).length <= 576));
  });
});
