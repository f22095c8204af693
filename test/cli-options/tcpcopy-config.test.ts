// tcpcopy's option validation: defaults, every option's conversion to the typed configuration,
// and every error message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError, parseIp, validateTcpcopyOptions } from '../../src/cli/options/index.js';
import type { OptionErrorCode, TcpcopyRawOptions } from '../../src/cli/options/index.js';

const base: TcpcopyRawOptions = { transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3' };
const v = (extra: TcpcopyRawOptions, env: Record<string, string> = {}) =>
  validateTcpcopyOptions({ ...base, ...extra }, { env });

describe('validateTcpcopyOptions: defaults', () => {
  void test('TCPCopy 1.x defaults with units in the names', () => {
    const c = v({});
    assert.equal(c.transfers.length, 1);
    assert.equal(c.captureFilter, 'tcp and dst port 80');
    assert.equal(c.captureFilterIsAuto, true);
    assert.deepEqual(c.intercepts, [{ ip: { text: '10.0.0.3', family: 4 }, port: 36524 }]);
    assert.equal(c.interceptPort, 36524);
    assert.equal(c.connectionsPerIntercept, 2);
    assert.deepEqual(c.interfaces, []);
    assert.equal(c.captureBufferBytes, 16 * 1024 * 1024);
    assert.equal(c.snaplenBytes, 65535);
    assert.equal(c.mtuBytes, 1500);
    assert.equal(c.mssBytes, 1460);
    assert.equal(c.sessionTimeoutMs, 600_000);
    assert.equal(c.keepaliveTimeoutMs, 720_000);
    assert.equal(c.synRequired, false);
    assert.equal(c.waitForResponse, true);
    assert.equal(c.lonely, false);
    assert.equal(c.maxMemoryBytes, 2048 * 1024 * 1024);
    assert.equal(c.logFile, null);
    assert.equal(c.pidFile, null);
    assert.equal(c.daemon, false);
    assert.equal(c.copies, 1);
    assert.equal(c.samplePercent, 100);
    assert.deepEqual(c.clientAddresses, []);
    assert.equal(c.secret, null);
    assert.equal(c.statsIntervalMs, 30_000);
  });
});

describe('validateTcpcopyOptions: each option', () => {
  void test('-s list with ports, IPv6 in brackets, default port from -p', () => {
    const c = v({ intercept: '10.0.0.3,10.0.0.4:4000,[fd00::5]:4001,fd00::6', interceptPort: '5000' });
    assert.deepEqual(
      c.intercepts.map((i) => `${i.ip.text}|${i.port}`),
      ['10.0.0.3|5000', '10.0.0.4|4000', 'fd00::5|4001', 'fd00::6|5000'],
    );
    assert.equal(c.interceptPort, 5000);
  });
  void test('-C', () => assert.equal(v({ connections: '11' }).connectionsPerIntercept, 11));
  void test('-i devices; any = all', () => {
    assert.deepEqual(v({ interface: 'eth0,veth-onl.1' }).interfaces, ['eth0', 'veth-onl.1']);
    assert.deepEqual(v({ interface: 'any' }).interfaces, []);
  });
  void test('-F replaces the built filter', () => {
    const c = v({ filter: 'tcp and dst port 80 and src net 10.0.0.0/8' });
    assert.equal(c.captureFilter, 'tcp and dst port 80 and src net 10.0.0.0/8');
    assert.equal(c.captureFilterIsAuto, false);
  });
  void test('-B MB to bytes', () => assert.equal(v({ bufferSize: '64' }).captureBufferBytes, 64 * 1024 * 1024));
  void test('-S', () => assert.equal(v({ snaplen: '1600' }).snaplenBytes, 1600));
  void test('-M and -D', () => {
    const c = v({ mtu: '9000', mss: '8960' });
    assert.equal(c.mtuBytes, 9000);
    assert.equal(c.mssBytes, 8960);
    // Without -D the MSS follows a smaller MTU (and stays 1460 for a larger one).
    assert.equal(v({ mtu: '576' }).mssBytes, 536);
    assert.equal(v({ mtu: '9000' }).mssBytes, 1460);
  });
  void test('-t seconds to ms; -k defaults to -t + 120 s', () => {
    const c = v({ sessionTimeout: '120' });
    assert.equal(c.sessionTimeoutMs, 120_000);
    assert.equal(c.keepaliveTimeoutMs, 240_000);
    assert.equal(v({ sessionTimeout: '120', keepaliveTimeout: '30' }).keepaliveTimeoutMs, 30_000);
  });
  void test('-O -W -L -d flags', () => {
    const c = v({ synOnly: true, wait: false, lonely: true, daemon: true });
    assert.equal(c.synRequired, true);
    assert.equal(c.waitForResponse, false);
    assert.equal(c.lonely, true);
    assert.equal(c.daemon, true);
  });
  void test('-m MB to bytes', () => assert.equal(v({ maxMemory: '512' }).maxMemoryBytes, 512 * 1024 * 1024));
  void test('-l -P', () => {
    const c = v({ logFile: '/var/log/tcpcopy.log', pidFile: '/run/tcpcopy.pid' });
    assert.equal(c.logFile, '/var/log/tcpcopy.log');
    assert.equal(c.pidFile, '/run/tcpcopy.pid');
  });
  void test('-n bounds 1 and 1023', () => {
    assert.equal(v({ copies: '1' }).copies, 1);
    assert.equal(v({ copies: '1023' }).copies, 1023);
  });
  void test('-r bounds 1 and 100', () => {
    assert.equal(v({ percentage: '1' }).samplePercent, 1);
    assert.equal(v({ percentage: '100' }).samplePercent, 100);
  });
  void test('-c: addresses, a.b.c.x expands to .1-.254, target addresses skipped, duplicates once', () => {
    const c = v({ clientIp: '10.1.0.9,fd00::9,10.0.0.x,10.1.0.9' });
    const texts = c.clientAddresses.map((a) => a.text);
    assert.equal(texts[0], '10.1.0.9');
    assert.equal(texts[1], 'fd00::9');
    assert.equal(texts[2], '10.0.0.1');
    assert.equal(texts.at(-1), '10.0.0.254');
    assert.ok(!texts.includes('10.0.0.2'), 'the target address is skipped');
    assert.equal(texts.length, 2 + 253);
  });
  void test('-c: address/prefix blocks (IPv4 without network and broadcast, IPv6 without ::0), bounded', () => {
    const texts = (clientIp: string): string[] => v({ clientIp }).clientAddresses.map((a) => a.text);
    const v4 = texts('10.77.200.77/24');
    assert.equal(v4.length, 254);
    assert.deepEqual([v4[0], v4.at(-1)], ['10.77.200.1', '10.77.200.254']);
    assert.deepEqual(texts('10.9.9.9/31'), ['10.9.9.8', '10.9.9.9']);
    assert.deepEqual(texts('10.9.9.9/32'), ['10.9.9.9']);
    assert.deepEqual(texts('fd00::1:0/126'), ['fd00::1:1', 'fd00::1:2', 'fd00::1:3']);
    assert.equal(texts('10.8.0.0/20').length, 4094);
    assert.throws(() => texts('10.8.0.0/19'), { code: 'OUT_OF_RANGE' });
    assert.throws(() => texts('10.8.0.0/33'), { code: 'BAD_ADDRESS' });
    assert.throws(() => texts('10.8.0.0/x'), { code: 'BAD_ADDRESS' });
    assert.throws(() => texts('10.8.0/24'), { code: 'BAD_ADDRESS' });
    assert.throws(() => texts('10.8.0.0/20,10.9.0.0/24'), { code: 'OUT_OF_RANGE' }, 'over 4096 in all');
  });
  void test('-f: 0..1023, default 0', () => {
    assert.equal(v({}).portFactor, 0);
    assert.equal(v({ portFactor: '1023' }).portFactor, 1023);
    assert.throws(() => v({ portFactor: '1024' }), { code: 'OUT_OF_RANGE' });
    assert.throws(() => v({ portFactor: '-1' }));
    assert.equal(v({ portFactor: '62', copies: '1023' }).portFactor, 62, '63 × 1023 = 64449 places');
    assert.throws(() => v({ portFactor: '63', copies: '1023' }), { code: 'OUT_OF_RANGE' });
  });
  void test('-H: a unicast address, not loopback, not a target', () => {
    assert.deepEqual(v({ localhostIp: '10.77.200.50' }).localhostAddress, { text: '10.77.200.50', family: 4 });
    assert.equal(v({}).localhostAddress, null);
    assert.deepEqual(v({ localhostIp: 'fd00::5' }).localhostAddress, { text: 'fd00::5', family: 6 });
    assert.throws(() => v({ localhostIp: '127.0.0.2' }), { code: 'BAD_ADDRESS' });
    assert.throws(() => v({ localhostIp: '::1' }), { code: 'BAD_ADDRESS' });
    assert.throws(() => v({ localhostIp: '224.0.0.1' }), { code: 'BAD_ADDRESS' });
    assert.throws(() => v({ localhostIp: '10.0.0.2' }), { code: 'CONFLICT' }, 'the target address');
    assert.throws(() => v({ localhostIp: 'nope' }), { code: 'BAD_ADDRESS' });
  });
  void test('--secret wins over TCPCOPY_SECRET; the variable is used without the flag; empty variable = none', () => {
    assert.equal(v({ secret: 'flag' }, { TCPCOPY_SECRET: 'env' }).secret, 'flag');
    assert.equal(v({}, { TCPCOPY_SECRET: 'env' }).secret, 'env');
    assert.equal(v({}, { TCPCOPY_SECRET: '' }).secret, null);
  });
  void test('--stats-interval seconds (decimals allowed), 0 = off', () => {
    assert.equal(v({ statsInterval: '5' }).statsIntervalMs, 5000);
    assert.equal(v({ statsInterval: '0.25' }).statsIntervalMs, 250);
    assert.equal(v({ statsInterval: '0' }).statsIntervalMs, 0);
  });
  void test('local addresses refuse a global-port item aimed at this machine', () => {
    assert.throws(
      () =>
        validateTcpcopyOptions({ ...base, transfer: '80-10.0.0.1:80' }, { localAddresses: [parseIp('t', '10.0.0.1')] }),
      { code: 'SELF_TARGET' },
    );
  });
});

const errors: { raw: TcpcopyRawOptions; code: OptionErrorCode; message: string }[] = [
  {
    raw: { transfer: undefined },
    code: 'MISSING_OPTION',
    message: 'tcpcopy needs -x [onlineIP:]port-targetIP:targetPort (what to copy and where to)',
  },
  {
    raw: { intercept: undefined },
    code: 'MISSING_OPTION',
    message: "tcpcopy needs -s interceptIP[:port] (where intercept returns the target's responses)",
  },
  {
    raw: { transfer: '10.0.0.2:80-10.0.0.2:80' },
    code: 'SELF_TARGET',
    message: "-x '10.0.0.2:80-10.0.0.2:80': refusing to replicate onto the online server itself",
  },
  {
    raw: { intercept: '10.0.0.300' },
    code: 'BAD_ADDRESS',
    message: "-s '10.0.0.300': '10.0.0.300' is not an IPv4 or IPv6 address",
  },
  { raw: { intercept: '0.0.0.0' }, code: 'BAD_ADDRESS', message: "-s '0.0.0.0': 0.0.0.0 is not a unicast address" },
  {
    raw: { intercept: '10.0.0.3:0' },
    code: 'BAD_PORT',
    message: "-s '10.0.0.3:0': port '0' is not a number from 1 to 65535",
  },
  {
    raw: { intercept: '10.0.0.3,10.0.0.3:36524' },
    code: 'CONFLICT',
    message: "-s '10.0.0.3:36524': this intercept is listed twice",
  },
  {
    raw: { intercept: Array.from({ length: 33 }, (_, i) => `10.0.1.${i + 1}`).join(',') },
    code: 'OUT_OF_RANGE',
    message: '-s: at most 32 intercepts (got 33)',
  },
  {
    raw: { interceptPort: '70000' },
    code: 'OUT_OF_RANGE',
    message: "-p must be an integer from 1 to 65535 (got '70000')",
  },
  { raw: { connections: '0' }, code: 'OUT_OF_RANGE', message: "-C must be an integer from 1 to 11 (got '0')" },
  { raw: { connections: '12' }, code: 'OUT_OF_RANGE', message: "-C must be an integer from 1 to 11 (got '12')" },
  { raw: { interface: 'eth0,,eth1' }, code: 'BAD_FORMAT', message: "-i: empty item in list 'eth0,,eth1'" },
  {
    raw: { interface: 'a-very-long-name0' },
    code: 'BAD_FORMAT',
    message: "-i: 'a-very-long-name0' is not a network interface name",
  },
  { raw: { interface: 'eth0,any' }, code: 'CONFLICT', message: "-i: 'any' cannot be combined with other devices" },
  { raw: { interface: 'eth0,eth0' }, code: 'CONFLICT', message: "-i: a device is listed twice in 'eth0,eth0'" },
  { raw: { filter: ' ' }, code: 'BAD_FORMAT', message: '-F must not be empty' },
  { raw: { bufferSize: '0' }, code: 'OUT_OF_RANGE', message: "-B must be an integer from 1 to 2047 (got '0')" },
  { raw: { snaplen: '65536' }, code: 'OUT_OF_RANGE', message: "-S must be an integer from 68 to 65535 (got '65536')" },
  { raw: { mtu: '500' }, code: 'OUT_OF_RANGE', message: "-M must be an integer from 576 to 65535 (got '500')" },
  { raw: { mss: '1.5' }, code: 'OUT_OF_RANGE', message: "-D must be an integer from 64 to 65495 (got '1.5')" },
  {
    raw: { mss: '1461' },
    code: 'CONFLICT',
    message: '-D 1461 does not fit the MTU: -M 1500 allows an MSS of at most 1460',
  },
  { raw: { sessionTimeout: '0' }, code: 'OUT_OF_RANGE', message: "-t must be an integer from 1 to 86400 (got '0')" },
  {
    raw: { keepaliveTimeout: 'ten' },
    code: 'OUT_OF_RANGE',
    message: "-k must be an integer from 1 to 86400 (got 'ten')",
  },
  { raw: { maxMemory: '8' }, code: 'OUT_OF_RANGE', message: "-m must be an integer from 16 to 1048576 (got '8')" },
  { raw: { logFile: '' }, code: 'BAD_FORMAT', message: '-l must not be empty' },
  { raw: { pidFile: '' }, code: 'BAD_FORMAT', message: '-P must not be empty' },
  { raw: { copies: '0' }, code: 'OUT_OF_RANGE', message: "-n must be an integer from 1 to 1023 (got '0')" },
  { raw: { copies: '1024' }, code: 'OUT_OF_RANGE', message: "-n must be an integer from 1 to 1023 (got '1024')" },
  { raw: { percentage: '0' }, code: 'OUT_OF_RANGE', message: "-r must be an integer from 1 to 100 (got '0')" },
  { raw: { percentage: '101' }, code: 'OUT_OF_RANGE', message: "-r must be an integer from 1 to 100 (got '101')" },
  {
    raw: { clientIp: '10.0.0.*' },
    code: 'BAD_ADDRESS',
    message: "-c '10.0.0.*': '10.0.0.*' is not an IPv4 or IPv6 address",
  },
  { raw: { clientIp: '10.0.x' }, code: 'BAD_ADDRESS', message: "-c '10.0.x': '10.0.1' is not an IPv4 or IPv6 address" },
  {
    raw: { clientIp: Array.from({ length: 17 }, (_, i) => `10.${i}.0.x`).join(',') },
    code: 'OUT_OF_RANGE',
    message: '-c: at most 4096 client addresses',
  },
  { raw: { secret: '' }, code: 'BAD_FORMAT', message: '--secret must not be empty' },
  {
    raw: { statsInterval: '-1' },
    code: 'OUT_OF_RANGE',
    message: "--stats-interval must be a number of seconds from 0.1 to 86400 (got '-1')",
  },
  {
    raw: { statsInterval: '0.05' },
    code: 'OUT_OF_RANGE',
    message: "--stats-interval must be a number of seconds from 0.1 to 86400 (got '0.05')",
  },
];

describe('validateTcpcopyOptions: errors', () => {
  for (const e of errors) {
    void test(e.message, () => {
      assert.throws(
        () => validateTcpcopyOptions({ ...base, ...e.raw }),
        (err: unknown) => err instanceof OptionError && err.code === e.code && err.message === e.message,
      );
    });
  }
});
