// LinkFramer (pure part of -o data-link send): each IP packet gets the Ethernet header of its
// target from -x — next-hop MAC as destination, online MAC (or the device's) as source, the
// EtherType of its IP version — and the packet bytes unchanged after it; packets to addresses
// without MACs, and non-IP bytes, get no frame.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateTcpcopyOptions } from '../../src/cli/options/index.js';
import { LinkFramer } from '../../src/tcpcopy/link-send.js';
import { PacketDecoder, TcpFlags, buildTcpPacket, parseEthernet } from '../../src/packet/index.js';

const ONL = '02:77:00:00:00:02';
const TGT = '02:77:00:00:00:03';
const TGT6 = '02:77:00:00:00:06';
const DEV = '02:aa:bb:cc:dd:ee';

function transfers(x: string) {
  return validateTcpcopyOptions({ transfer: x, intercept: '10.0.0.4', outputDevice: 'eth0' }).transfers;
}

const syn = (version: 4 | 6, src: string, dst: string, payload = 0) =>
  buildTcpPacket({
    family: version,
    src,
    dst,
    srcPort: 40000,
    dstPort: 8080,
    seq: 1,
    ack: 0,
    flags: TcpFlags.SYN,
    window: 1024,
    payload: Buffer.alloc(payload, 0x61),
  });

describe('LinkFramer', () => {
  const framer = new LinkFramer(transfers(`80@${ONL}-10.0.0.3:8080@${TGT},81@${ONL}-[fd77::3]:8080@${TGT6}`), DEV);

  void test('an IPv4 packet: dst = next hop, src = online MAC, 0x0800, the packet unchanged', () => {
    const p = syn(4, '10.0.0.1', '10.0.0.3', 100);
    const f = framer.frame(p);
    assert.ok(f);
    assert.equal(f.length, 14 + p.length);
    assert.deepEqual(parseEthernet(f, 0, f.length), { dst: TGT, src: ONL, vlans: [], etherType: 0x0800 });
    assert.deepEqual(f.subarray(14), p);
    const d = new PacketDecoder();
    assert.equal(d.decode(f, 0, f.length, 1), true);
    assert.equal(d.dstAddress(), '10.0.0.3');
    assert.equal(d.dstPort, 8080);
  });

  void test('an IPv6 packet: its own next hop and 0x86dd', () => {
    const p = syn(6, 'fd77::1', 'fd77::3');
    const f = framer.frame(p);
    assert.ok(f);
    assert.deepEqual(parseEthernet(f, 0, f.length), { dst: TGT6, src: ONL, vlans: [], etherType: 0x86dd });
    assert.deepEqual(f.subarray(14), p);
  });

  void test('no frame for a destination without MACs, an IPv4-mapped twin, or non-IP bytes', () => {
    assert.equal(framer.frame(syn(4, '10.0.0.1', '10.0.0.9')), null);
    assert.equal(framer.frame(syn(6, 'fd77::1', '::ffff:10.0.0.3')), null);
    assert.equal(framer.frame(Buffer.alloc(60)), null);
    assert.equal(framer.frame(Buffer.alloc(0)), null);
    assert.equal(framer.frame(syn(4, '10.0.0.1', '10.0.0.3').subarray(0, 19)), null);
    assert.equal(framer.size, 2);
  });

  void test('a packet that is a view into a larger buffer is framed from its own bytes', () => {
    const p = syn(4, '10.0.0.1', '10.0.0.3', 10);
    const big = Buffer.concat([Buffer.alloc(7, 0xee), p, Buffer.alloc(5, 0xee)]);
    const view = big.subarray(7, 7 + p.length);
    assert.deepEqual(framer.frame(view)?.subarray(14), p);
  });

  void test('items without an online MAC take the device MAC as source', () => {
    const [t] = transfers(`80@${ONL}-10.0.0.3:8080@${TGT}`);
    assert.ok(t);
    const f = new LinkFramer([{ online: { ...t.online, mac: null }, target: t.target }], DEV).frame(
      syn(4, '10.0.0.1', '10.0.0.3'),
    );
    assert.ok(f);
    assert.equal(parseEthernet(f, 0, f.length).src, DEV);
  });
});
