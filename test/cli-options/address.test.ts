// Address pieces: canonical text, brackets, ports, MACs, lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnicast, parseHostPort, parseIp, parseMac, parsePort, splitList } from '../../src/cli/options/index.js';

test('parseIp returns canonical text so equal addresses compare equal', () => {
  assert.deepEqual(parseIp('f', '1.2.3.04'), { text: '1.2.3.4', family: 4 });
  assert.deepEqual(parseIp('f', 'FD00:0000::0001'), { text: 'fd00::1', family: 6 });
  assert.deepEqual(parseIp('f', '[::1]'), { text: '::1', family: 6 });
  assert.deepEqual(parseIp('f', '::ffff:1.2.3.4'), { text: '::ffff:1.2.3.4', family: 6 });
  for (const bad of ['', '1.2.3', '1.2.3.4.5', 'fe80::1%eth0', 'host', '[1.2.3.4'])
    assert.throws(() => parseIp('-b', bad), {
      code: 'BAD_ADDRESS',
      message: `-b: '${bad}' is not an IPv4 or IPv6 address`,
    });
});

test('parsePort accepts 1..65535 in decimal only', () => {
  assert.equal(parsePort('f', '1'), 1);
  assert.equal(parsePort('f', '65535'), 65535);
  for (const bad of ['0', '65536', '-1', '0x50', '8 0', '', '123456'])
    assert.throws(() => parsePort('-p', bad), {
      code: 'BAD_PORT',
      message: `-p: port '${bad}' is not a number from 1 to 65535`,
    });
});

test('parseHostPort: ip, ip:port, [v6], [v6]:port, bare v6', () => {
  assert.deepEqual(parseHostPort('f', '10.0.0.1'), { ip: { text: '10.0.0.1', family: 4 }, port: null });
  assert.deepEqual(parseHostPort('f', '10.0.0.1:80'), { ip: { text: '10.0.0.1', family: 4 }, port: 80 });
  assert.deepEqual(parseHostPort('f', '[fd00::1]:80'), { ip: { text: 'fd00::1', family: 6 }, port: 80 });
  assert.deepEqual(parseHostPort('f', '[fd00::1]'), { ip: { text: 'fd00::1', family: 6 }, port: null });
  assert.deepEqual(parseHostPort('f', 'fd00::1'), { ip: { text: 'fd00::1', family: 6 }, port: null });
  assert.throws(() => parseHostPort('f', '10.0.0.1:'), { code: 'BAD_PORT' });
});

test('parseMac: colon or dash pairs, lower-cased', () => {
  assert.equal(parseMac('f', 'AA:bb:0C:dd:ee:FF'), 'aa:bb:0c:dd:ee:ff');
  assert.equal(parseMac('f', 'aa-bb-cc-dd-ee-ff'), 'aa:bb:cc:dd:ee:ff');
  for (const bad of ['aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:fg', 'aabbccddeeff', 'a:bb:cc:dd:ee:ff'])
    assert.throws(() => parseMac('m', bad), {
      code: 'BAD_MAC',
      message: `m: '${bad}' is not a MAC address like 00:11:22:33:44:55`,
    });
});

test('splitList trims items and refuses empty ones', () => {
  assert.deepEqual(splitList('f', 'a, b ,c'), ['a', 'b', 'c']);
  assert.throws(() => splitList('-s', 'a,'), { code: 'BAD_FORMAT', message: "-s: empty item in list 'a,'" });
});

test('isUnicast', () => {
  for (const t of ['10.0.0.1', '127.0.0.1', '223.255.255.255', '240.0.0.1', 'fd00::1', '::1'])
    assert.equal(isUnicast(parseIp('f', t)), true, t);
  for (const t of ['0.0.0.0', '224.0.0.1', '239.255.255.255', '255.255.255.255', '::', 'ff02::1'])
    assert.equal(isUnicast(parseIp('f', t)), false, t);
});
