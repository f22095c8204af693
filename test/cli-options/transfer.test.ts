// -x parsing, table-driven: IPv4, IPv6 in brackets, the MAC form, lists, and every bad form with
// its exact one-line message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError, formatTransfer, parseIp, parseTransfers, transferFamilies } from '../../src/cli/options/index.js';
import type { OptionErrorCode } from '../../src/cli/options/index.js';

const good: {
  x: string;
  canonical: string;
  onlineIp: string | null;
  onlinePort: number;
  target: string;
  targetPort: number;
}[] = [
  {
    x: '80-10.0.0.2:8080',
    canonical: '80-10.0.0.2:8080',
    onlineIp: null,
    onlinePort: 80,
    target: '10.0.0.2',
    targetPort: 8080,
  },
  {
    x: '10.0.0.1:80-10.0.0.2:80',
    canonical: '10.0.0.1:80-10.0.0.2:80',
    onlineIp: '10.0.0.1',
    onlinePort: 80,
    target: '10.0.0.2',
    targetPort: 80,
  },
  {
    x: '10.0.0.1:80-10.0.0.1:8080',
    canonical: '10.0.0.1:80-10.0.0.1:8080',
    onlineIp: '10.0.0.1',
    onlinePort: 80,
    target: '10.0.0.1',
    targetPort: 8080,
  },
  {
    x: '[fd00::1]:80-[fd00::2]:8080',
    canonical: '[fd00::1]:80-[fd00::2]:8080',
    onlineIp: 'fd00::1',
    onlinePort: 80,
    target: 'fd00::2',
    targetPort: 8080,
  },
  {
    x: '[FD00:0:0::0001]:80-[fd00::2]:80',
    canonical: '[fd00::1]:80-[fd00::2]:80',
    onlineIp: 'fd00::1',
    onlinePort: 80,
    target: 'fd00::2',
    targetPort: 80,
  },
  {
    x: '443-[::1]:8443',
    canonical: '443-[::1]:8443',
    onlineIp: null,
    onlinePort: 443,
    target: '::1',
    targetPort: 8443,
  },
  {
    x: '65535-1.2.3.4:1',
    canonical: '65535-1.2.3.4:1',
    onlineIp: null,
    onlinePort: 65535,
    target: '1.2.3.4',
    targetPort: 1,
  },
];

const bad: { x: string; code: OptionErrorCode; message: string }[] = [
  { x: '80', code: 'BAD_FORMAT', message: "-x '80': expected [onlineIP:]port-targetIP:targetPort" },
  {
    x: '80-10.0.0.2:80-1',
    code: 'BAD_FORMAT',
    message: "-x '80-10.0.0.2:80-1': expected [onlineIP:]port-targetIP:targetPort",
  },
  {
    x: '80-8080',
    code: 'BAD_FORMAT',
    message: "-x '80-8080': the target side needs an address and a port (targetIP:port)",
  },
  { x: '80-', code: 'BAD_FORMAT', message: "-x '80-': the target side needs an address and a port (targetIP:port)" },
  { x: '80-10.0.0.2', code: 'BAD_FORMAT', message: "-x '80-10.0.0.2': the target side needs a port (targetIP:port)" },
  { x: '80-[fd00::2]', code: 'BAD_FORMAT', message: "-x '80-[fd00::2]': the target side needs a port (targetIP:port)" },
  {
    x: '10.0.0.1-10.0.0.2:80',
    code: 'BAD_FORMAT',
    message: "-x '10.0.0.1-10.0.0.2:80': the online side needs a port ([onlineIP:]port)",
  },
  {
    x: '80-10.0.0.256:80',
    code: 'BAD_ADDRESS',
    message: "-x '80-10.0.0.256:80': '10.0.0.256' is not an IPv4 or IPv6 address",
  },
  {
    x: 'web:80-10.0.0.2:80',
    code: 'BAD_ADDRESS',
    message: "-x 'web:80-10.0.0.2:80': 'web' is not an IPv4 or IPv6 address",
  },
  {
    x: '80-[fd00::zz]:80',
    code: 'BAD_ADDRESS',
    message: "-x '80-[fd00::zz]:80': 'fd00::zz' is not an IPv4 or IPv6 address",
  },
  { x: '80-[fd00::2:80', code: 'BAD_FORMAT', message: "-x '80-[fd00::2:80': '[fd00::2:80' has '[' without ']'" },
  {
    x: '80-[fd00::2]x80',
    code: 'BAD_FORMAT',
    message: "-x '80-[fd00::2]x80': '[fd00::2]x80' has text after ']' that is not ':port'",
  },
  {
    x: '80-0.0.0.0:80',
    code: 'BAD_ADDRESS',
    message: "-x '80-0.0.0.0:80': the target 0.0.0.0 is not a unicast address",
  },
  {
    x: '80-239.1.1.1:80',
    code: 'BAD_ADDRESS',
    message: "-x '80-239.1.1.1:80': the target 239.1.1.1 is not a unicast address",
  },
  {
    x: '80-255.255.255.255:80',
    code: 'BAD_ADDRESS',
    message: "-x '80-255.255.255.255:80': the target 255.255.255.255 is not a unicast address",
  },
  { x: '80-[::]:80', code: 'BAD_ADDRESS', message: "-x '80-[::]:80': the target :: is not a unicast address" },
  {
    x: '80-[ff02::1]:80',
    code: 'BAD_ADDRESS',
    message: "-x '80-[ff02::1]:80': the target ff02::1 is not a unicast address",
  },
  { x: '0-10.0.0.2:80', code: 'BAD_PORT', message: "-x '0-10.0.0.2:80': port '0' is not a number from 1 to 65535" },
  {
    x: '80-10.0.0.2:65536',
    code: 'BAD_PORT',
    message: "-x '80-10.0.0.2:65536': port '65536' is not a number from 1 to 65535",
  },
  {
    x: '80-10.0.0.2:http',
    code: 'BAD_PORT',
    message: "-x '80-10.0.0.2:http': port 'http' is not a number from 1 to 65535",
  },
  {
    x: '10.0.0.1:80-10.0.0.1:80',
    code: 'SELF_TARGET',
    message: "-x '10.0.0.1:80-10.0.0.1:80': refusing to replicate onto the online server itself",
  },
  {
    x: '[fd00::1]:80-[fd00:0::1]:80',
    code: 'SELF_TARGET',
    message: "-x '[fd00::1]:80-[fd00:0::1]:80': refusing to replicate onto the online server itself",
  },
  {
    x: '10.0.0.1:80-[fd00::2]:80',
    code: 'CONFLICT',
    message: "-x '10.0.0.1:80-[fd00::2]:80': online and target addresses are of different IP families",
  },
  {
    x: '80-10.0.0.2:80,80-10.0.0.2:80',
    code: 'CONFLICT',
    message: "-x '80-10.0.0.2:80': online 80 already goes to that target in '80-10.0.0.2:80'",
  },
  {
    x: '80-10.0.0.2:80,,81-10.0.0.2:81',
    code: 'BAD_FORMAT',
    message: "-x: empty item in list '80-10.0.0.2:80,,81-10.0.0.2:81'",
  },
  {
    x: '80@00:11:22:33:44:55-10.0.0.2:80',
    code: 'BAD_FORMAT',
    message: "-x '80@00:11:22:33:44:55-10.0.0.2:80': give a MAC on both sides or on neither",
  },
  {
    x: '80@00:11:22:33:44-10.0.0.2:80@00:11:22:33:44:66',
    code: 'BAD_MAC',
    message:
      "-x '80@00:11:22:33:44-10.0.0.2:80@00:11:22:33:44:66': '00:11:22:33:44' is not a MAC address like 00:11:22:33:44:55",
  },
  { x: '80@a@b-10.0.0.2:80', code: 'BAD_FORMAT', message: "-x '80@a@b-10.0.0.2:80': more than one '@' on one side" },
  {
    x: '80@00-11-22-33-44-55-10.0.0.2:80@00:11:22:33:44:66',
    code: 'BAD_FORMAT',
    message:
      "-x '80@00-11-22-33-44-55-10.0.0.2:80@00:11:22:33:44:66': write MACs with ':' (aa:bb:cc:dd:ee:ff); '-' separates online and target",
  },
  {
    x: '80@00:11:22:33:44:55-10.0.0.2:80@00:11:22:33:44:66,81-10.0.0.2:81',
    code: 'CONFLICT',
    message: '-x: either every item carries MACs or none does',
  },
];

describe('parseTransfers: good forms', () => {
  for (const g of good) {
    void test(g.x, () => {
      const [t, ...rest] = parseTransfers(g.x);
      assert.equal(rest.length, 0);
      assert.ok(t);
      assert.equal(t.online.ip?.text ?? null, g.onlineIp);
      assert.equal(t.online.port, g.onlinePort);
      assert.equal(t.target.ip.text, g.target);
      assert.equal(t.target.port, g.targetPort);
      assert.equal(t.online.mac, null);
      assert.equal(t.target.mac, null);
      assert.equal(formatTransfer(t), g.canonical);
    });
  }

  void test('MAC form: both MACs parsed to lower-case colon form', () => {
    const [t] = parseTransfers('10.0.0.1:80@00:11:22:AA:bb:CC-10.0.0.2:8080@00:11:22:33:44:66');
    assert.ok(t);
    assert.equal(t.online.mac, '00:11:22:aa:bb:cc');
    assert.equal(t.target.mac, '00:11:22:33:44:66');
    assert.equal(t.online.ip?.text, '10.0.0.1');
    assert.equal(formatTransfer(t), '10.0.0.1:80@00:11:22:aa:bb:cc-10.0.0.2:8080@00:11:22:33:44:66');
    const [g] = parseTransfers('80@00:11:22:33:44:55-[fd00::2]:80@00:11:22:33:44:66');
    assert.equal(g?.online.ip, null);
    assert.equal(g?.target.ip.family, 6);
  });

  void test('several items, kept in order; families listed', () => {
    const ts = parseTransfers('80-10.0.0.2:8080, 10.0.0.1:443-10.0.0.2:8443,[fd00::1]:22-[fd00::2]:22');
    assert.deepEqual(ts.map(formatTransfer), [
      '80-10.0.0.2:8080',
      '10.0.0.1:443-10.0.0.2:8443',
      '[fd00::1]:22-[fd00::2]:22',
    ]);
    assert.deepEqual(transferFamilies(ts), [4, 6]);
  });

  void test('the same port on different online addresses is allowed', () => {
    assert.equal(parseTransfers('10.0.0.1:80-10.0.0.3:80,10.0.0.2:80-10.0.0.3:81').length, 2);
  });

  void test('at most 32 items', () => {
    const items = Array.from({ length: 33 }, (_, i) => `${1000 + i}-10.0.0.2:80`);
    assert.equal(parseTransfers(items.slice(0, 32).join(',')).length, 32);
    assert.throws(() => parseTransfers(items.join(',')), {
      code: 'OUT_OF_RANGE',
      message: '-x: at most 32 items (got 33)',
    });
  });
});

describe('parseTransfers: bad forms', () => {
  for (const b of bad) {
    void test(b.x, () => {
      assert.throws(
        () => parseTransfers(b.x),
        (e: unknown) =>
          e instanceof OptionError && e.code === b.code && e.message === b.message && !e.message.includes('\n'),
        b.message,
      );
    });
  }

  void test('no online address: a target that is a local address on the same port is the online server', () => {
    const local = [parseIp('t', '127.0.0.1'), parseIp('t', '10.0.0.1'), parseIp('t', '::1')];
    assert.throws(() => parseTransfers('80-10.0.0.1:80', local), {
      code: 'SELF_TARGET',
      message: "-x '80-10.0.0.1:80': refusing to replicate onto the online server itself",
    });
    assert.throws(() => parseTransfers('80-[0::1]:80', local), { code: 'SELF_TARGET' });
    // another port on this machine, or the same port on another machine, is fine
    assert.equal(parseTransfers('80-10.0.0.1:8080', local).length, 1);
    assert.equal(parseTransfers('80-10.0.0.2:80', local).length, 1);
  });
});
