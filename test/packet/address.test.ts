// Address text conversion: exact values, rejects, and inet_ntop agreement on random IPv6 addresses.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';
import {
  PacketError,
  parseIpv4Address,
  ipv4ToString,
  formatIpv4,
  parseIpv6Address,
  formatIpv6,
  formatMac,
  writeMac,
} from '../../src/packet/index.js';
import { Prng } from './prng.js';

function rejects(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof PacketError && e.code === 'BAD_ADDRESS');
}

describe('IPv4 text', () => {
  test('parse and format', () => {
    assert.equal(parseIpv4Address('10.77.0.1'), 0x0a4d0001);
    assert.equal(parseIpv4Address('255.255.255.255'), 0xffffffff);
    assert.equal(parseIpv4Address('0.0.0.0'), 0);
    assert.equal(ipv4ToString(0xc0a80001), '192.168.0.1');
    assert.equal(formatIpv4(Buffer.from([1, 2, 3, 4]), 0), '1.2.3.4');
  });

  test('formatIpv4 tells apart addresses that differ only in their top two bits (one intern key)', () => {
    const firsts = [10, 74, 138, 202];
    for (let round = 0; round < 3; round++) {
      for (const a of firsts) assert.equal(formatIpv4(Buffer.from([0, a, 1, 2, 3]), 1), `${a}.1.2.3`);
    }
    assert.equal(formatIpv4(Buffer.from([255, 255, 255, 255]), 0), '255.255.255.255');
    assert.equal(formatIpv4(Buffer.from([63, 255, 255, 255]), 0), '63.255.255.255');
  });

  test('rejects', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1..2.3',
      'a.b.c.d',
      '1.2.3.4 ',
      '1234.1.1.1',
      '1.2.3.',
      '.1.2.3',
    ]) {
      rejects(() => parseIpv4Address(bad));
    }
  });
});

describe('IPv6 text', () => {
  test('parse', () => {
    const cases: Array<[string, string]> = [
      ['::', '00000000000000000000000000000000'],
      ['::1', '00000000000000000000000000000001'],
      ['fd77::1', 'fd770000000000000000000000000001'],
      ['FD77:0:0:0:0:0:0:2', 'fd770000000000000000000000000002'],
      ['2001:db8::ff00:42:8329', '20010db8000000000000ff0000428329'],
      ['::ffff:10.77.0.1', '00000000000000000000ffff0a4d0001'],
      ['1::', '00010000000000000000000000000000'],
      ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
      ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ];
    for (const [text, hex] of cases) assert.equal(parseIpv6Address(text).toString('hex'), hex, text);
  });

  test('rejects', () => {
    for (const bad of [
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      ':1::',
      '1:',
      'g::',
      '1.2.3.4',
      '::1.2.3',
      'fe80::1%lo',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1 ',
    ]) {
      rejects(() => parseIpv6Address(bad));
    }
  });

  test('format agrees with inet_ntop on random addresses with zero runs', () => {
    const prng = new Prng(5952);
    for (let i = 0; i < 3000; i++) {
      const b = prng.bytes(16);
      for (let w = 0; w < 8; w++) if (prng.below(2) === 0) b.writeUInt16BE(0, 2 * w);
      if (i % 50 === 0) {
        b.fill(0, 0, 10);
        b.writeUInt16BE(0xffff, 10);
      } // IPv4-mapped
      if (i % 77 === 0) b.fill(0, 0, 12); // IPv4-compatible
      const text = formatIpv6(b, 0);
      const ref = new SocketAddress({ address: text, family: 'ipv6' }).address;
      assert.equal(text, ref);
      assert.deepEqual(parseIpv6Address(text), b);
    }
  });
});

describe('MAC text', () => {
  test('format and parse', () => {
    const b = Buffer.alloc(6);
    writeMac('0A:1b:2C:3d:4E:5f', b, 0);
    assert.equal(b.toString('hex'), '0a1b2c3d4e5f');
    assert.equal(formatMac(b, 0), '0a:1b:2c:3d:4e:5f');
    writeMac('00-11-22-33-44-55', b, 0);
    assert.equal(formatMac(b, 0), '00:11:22:33:44:55');
    for (const bad of ['', '00:11:22:33:44', '00:11:22:33:44:5g', '00:11:22:33:44:55:66', '001122334455'])
      rejects(() => writeMac(bad, b, 0));
  });
});
