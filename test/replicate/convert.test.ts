// The pure pieces of the live replication: -x → target resolver and loop-guard keys, captured
// packet → ClientSegment, channel RESPONSE ⇄ TargetHeader, intercept's reply → RESPONSE.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseTransfers } from '../../src/cli/options/index.js';
import { LinkType, PacketDecoder, TcpFlags, buildTcpPacket } from '../../src/packet/index.js';
import type { TcpPacketSpec } from '../../src/packet/index.js';
import { responseFromDecoder } from '../../src/intercept/index.js';
import {
  LoopGuard,
  buildMoreTargets,
  buildTargetResolver,
  clientSegmentFromDecoder,
  targetHeaderFromResponse,
  targetKeys,
} from '../../src/tcpcopy/index.js';

function decoded(spec: TcpPacketSpec): PacketDecoder {
  const dec = new PacketDecoder();
  const buf = buildTcpPacket(spec);
  assert.ok(dec.decode(buf, 0, buf.length, LinkType.RAW));
  return dec;
}

const request: TcpPacketSpec = {
  family: 4,
  src: '10.77.0.1',
  dst: '10.77.0.2',
  srcPort: 40000,
  dstPort: 80,
  seq: 0xfffffff0,
  ack: 123456,
  flags: TcpFlags.ACK | TcpFlags.PSH,
  window: 501,
  ttl: 61,
  options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 1111, tsecr: 2222 }],
  payload: Buffer.from('GET / HTTP/1.1\r\n\r\n'),
};

void describe('target resolver', () => {
  const transfers = parseTransfers('10.0.0.9:80-10.77.0.3:8080,80-10.77.0.5:9000,[fd77::2]:443-[fd77::3]:8443');

  void test('an exact online address wins over a global port; other ports are not replicated', () => {
    const r = buildTargetResolver(transfers);
    assert.deepEqual(r('10.0.0.9', 80), { ip: '10.77.0.3', port: 8080 });
    assert.deepEqual(r('10.77.0.2', 80), { ip: '10.77.0.5', port: 9000 });
    assert.deepEqual(r('fd77::2', 443), { ip: 'fd77::3', port: 8443 });
    assert.equal(r('10.0.0.9', 81), undefined);
    assert.equal(r('fd77::9', 443), undefined);
  });

  void test('several targets for one online endpoint: the first from the resolver, the others from buildMoreTargets', () => {
    assert.equal(buildMoreTargets(transfers), null, 'none has two: nothing to ask per packet');
    const two = parseTransfers(
      '80-10.77.0.3:8080,80-10.77.0.3:8081,80-10.77.0.6:8080,10.0.0.9:80-10.77.0.7:80,81-10.77.0.3:81',
    );
    const r = buildTargetResolver(two);
    const more = buildMoreTargets(two)!;
    assert.deepEqual(r('10.77.0.2', 80), { ip: '10.77.0.3', port: 8080 });
    assert.deepEqual(more('10.77.0.2', 80), [
      { ip: '10.77.0.3', port: 8081 },
      { ip: '10.77.0.6', port: 8080 },
    ]);
    assert.equal(more('10.0.0.9', 80), undefined, 'an exact item wins, with no others of its own');
    assert.equal(more('10.77.0.2', 81), undefined);
    assert.equal(more('fd77::2', 80), undefined, 'global ports are per family');
  });

  void test('loop-guard keys are the target address:port pairs', () => {
    assert.deepEqual([...targetKeys(transfers)].sort(), ['10.77.0.3 8080', '10.77.0.5 9000', 'fd77::3 8443']);
  });

  void test('the loop guard drops packets from or to a target address:port, and only those', () => {
    const guard = new LoopGuard(
      parseTransfers('80-10.77.0.3:8080,81-192.168.7.9:8080,82-10.77.0.3:9000,443-[fd77::3]:8443'),
    );
    const is = (spec: Partial<TcpPacketSpec>): boolean => guard.isTargetTraffic(decoded({ ...request, ...spec }));
    assert.equal(is({}), false, 'a client request to the online server');
    assert.equal(is({ dst: '10.77.0.3', dstPort: 8080 }), true, 'a copy we sent');
    assert.equal(is({ src: '10.77.0.3', srcPort: 8080 }), true, "the target's reply");
    assert.equal(is({ dst: '192.168.7.9', dstPort: 8080 }), true, 'a target above 2^31');
    assert.equal(
      is({ src: '10.77.0.3', srcPort: 9000, dst: '10.0.0.1', dstPort: 5 }),
      true,
      'the second port of one target address',
    );
    assert.equal(is({ dst: '10.77.0.3', dstPort: 8081 }), false, 'another port of a target address');
    assert.equal(
      is({ dst: '64.77.0.3', dstPort: 8080 }),
      false,
      'an address that differs from a target in its top bits',
    );
    assert.equal(is({ dst: '192.168.7.8', dstPort: 8080 }), false);
    const v6 = { family: 6 as const, src: 'fd77::1', dst: 'fd77::2' };
    assert.equal(is({ ...v6 }), false);
    assert.equal(is({ ...v6, dst: 'fd77::3', dstPort: 8443 }), true);
    assert.equal(is({ ...v6, src: 'fd77::3', srcPort: 8443 }), true);
    assert.equal(is({ ...v6, dst: 'fd77::3', dstPort: 8444 }), false);
  });
});

void describe('captured packet → ClientSegment', () => {
  void test('IPv4 request: addresses, numbers, options and payload', () => {
    const seg = clientSegmentFromDecoder(decoded(request));
    assert.ok(seg);
    assert.equal(seg.family, 4);
    assert.deepEqual([seg.src, seg.srcPort, seg.dst, seg.dstPort], ['10.77.0.1', 40000, '10.77.0.2', 80]);
    assert.deepEqual([seg.seq, seg.ack, seg.flags, seg.window], [0xfffffff0, 123456, TcpFlags.ACK | TcpFlags.PSH, 501]);
    assert.deepEqual(seg.options, {
      mss: -1,
      windowScale: -1,
      sackPermitted: false,
      hasTimestamps: true,
      tsval: 1111,
      tsecr: 2222,
    });
    assert.equal(Buffer.from(seg.payload).toString(), 'GET / HTTP/1.1\r\n\r\n');
  });

  void test('IPv6 SYN with MSS, window scale and SACK permitted', () => {
    const seg = clientSegmentFromDecoder(
      decoded({
        family: 6,
        src: 'fd77::1',
        dst: 'fd77::2',
        srcPort: 5555,
        dstPort: 443,
        seq: 7,
        ack: 0,
        flags: TcpFlags.SYN,
        window: 64800,
        options: [{ kind: 'mss', value: 1440 }, { kind: 'sackPermitted' }, { kind: 'wscale', shift: 7 }],
      }),
    );
    assert.ok(seg);
    assert.equal(seg.family, 6);
    assert.deepEqual([seg.src, seg.dst, seg.flags, seg.payload.length], ['fd77::1', 'fd77::2', TcpFlags.SYN, 0]);
    assert.deepEqual(seg.options, {
      mss: 1440,
      windowScale: 7,
      sackPermitted: true,
      hasTimestamps: false,
      tsval: 0,
      tsecr: 0,
    });
  });

  void test('a packet cut by the snaplen is refused', () => {
    const dec = new PacketDecoder();
    const buf = buildTcpPacket(request);
    assert.ok(dec.decode(buf, 0, buf.length - 4, LinkType.RAW));
    assert.equal(clientSegmentFromDecoder(dec), null);
  });
});

void describe('target reply → RESPONSE → TargetHeader', () => {
  const reply: TcpPacketSpec = {
    family: 4,
    src: '10.77.0.3',
    dst: '10.77.0.1',
    srcPort: 8080,
    dstPort: 40000,
    seq: 99,
    ack: 2,
    flags: TcpFlags.ACK | TcpFlags.PSH | TcpFlags.FIN,
    window: 509,
    ttl: 64,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 3333, tsecr: 1111 }],
    payload: Buffer.alloc(300, 0x41),
  };

  void test('intercept copies the header with options, TTL and payload length', () => {
    const dec = decoded(reply);
    const r = responseFromDecoder(dec);
    assert.ok(r);
    assert.deepEqual(
      [r.type, r.family, r.hopLimit, r.payloadLength, r.src, r.dst],
      ['response', 4, 64, 300, '10.77.0.3', '10.77.0.1'],
    );
    assert.equal(r.tcpHeader.length, 32);
    assert.deepEqual(r.tcpHeader, dec.buf.subarray(dec.tcpOffset, dec.tcpOffset + 32));
    dec.buf.fill(0);
    assert.equal(r.tcpHeader.readUInt16BE(0), 8080, 'the header is a copy, not a view of the capture buffer');
  });

  void test('the payload length is the wire length even when the snaplen cut the payload', () => {
    const dec = new PacketDecoder();
    const buf = buildTcpPacket(reply);
    assert.ok(dec.decode(buf, 0, 20 + 32 + 10, LinkType.RAW));
    assert.equal(responseFromDecoder(dec)?.payloadLength, 300);
  });

  void test('tcpcopy reads the TargetHeader back from the RESPONSE', () => {
    const r = responseFromDecoder(decoded(reply));
    assert.ok(r);
    assert.deepEqual(targetHeaderFromResponse(r), {
      src: '10.77.0.3',
      srcPort: 8080,
      dst: '10.77.0.1',
      dstPort: 40000,
      seq: 99,
      ack: 2,
      flags: TcpFlags.ACK | TcpFlags.PSH | TcpFlags.FIN,
      window: 509,
      options: { mss: -1, windowScale: -1, sackPermitted: false, hasTimestamps: true, tsval: 3333, tsecr: 1111 },
      payloadLength: 300,
      payload: undefined,
    });
    // With the first payload bytes (RESPONSE_DATA): carried to the engine as they came.
    const withData = targetHeaderFromResponse({ ...r, payload: Buffer.from('abc') });
    assert.deepEqual(withData.payload, Buffer.from('abc'));
  });
});
