// intercept's option validation: defaults, each option, every error message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError, validateInterceptOptions } from '../../src/cli/options/index.js';
import type { InterceptRawOptions, OptionErrorCode } from '../../src/cli/options/index.js';

const base: InterceptRawOptions = { filter: 'tcp and src port 8080' };

describe('validateInterceptOptions', () => {
  void test('defaults', () => {
    assert.deepEqual(validateInterceptOptions(base), {
      interfaces: [],
      captureFilter: 'tcp and src port 8080',
      listenPort: 36524,
      bindAddress: null,
      logFile: null,
      metrics: null,
      logFormat: 'text',
      pidFile: null,
      user: null,
      daemon: false,
      secret: null,
      statsIntervalMs: 30_000,
      tcpcopy1: false, // --tcpcopy1
      tcpcopy1AllowedPeers: [],
      nfqueuePorts: [], // --nfqueue
      queueNum: 0,
      passList: [],
      replyPayloadBytes: 512, // --reply-payload
    });
  });

  void test('--reply-payload: 0..2048 bytes; none with --tcpcopy1', () => {
    const base = { filter: 'tcp and src port 80' };
    assert.equal(validateInterceptOptions({ ...base, replyPayload: '0' }).replyPayloadBytes, 0);
    assert.equal(validateInterceptOptions({ ...base, replyPayload: '2048' }).replyPayloadBytes, 2048);
    assert.throws(() => validateInterceptOptions({ ...base, replyPayload: '2049' }), /--reply-payload/);
    assert.throws(() => validateInterceptOptions({ ...base, replyPayload: 'lots' }), /--reply-payload/);
    assert.equal(validateInterceptOptions({ ...base, tcpcopy1: true }).replyPayloadBytes, 0);
    assert.throws(
      () => validateInterceptOptions({ ...base, tcpcopy1: true, replyPayload: '64' }),
      /--reply-payload: the TCPCopy 1.x channel \(--tcpcopy1\) carries reply headers only/,
    );
  });

  void test('every option', () => {
    const c = validateInterceptOptions(
      {
        ...base,
        interface: 'eth1,eth2',
        port: '4000',
        bind: 'FD00::3',
        logFile: 'i.log',
        pidFile: 'i.pid',
        daemon: true,
        statsInterval: '10',
      },
      { env: { TCPCOPY_SECRET: 's3' } },
    );
    assert.deepEqual(c.interfaces, ['eth1', 'eth2']);
    assert.equal(c.listenPort, 4000);
    assert.deepEqual(c.bindAddress, { text: 'fd00::3', family: 6 });
    assert.equal(c.logFile, 'i.log');
    assert.equal(c.pidFile, 'i.pid');
    assert.equal(c.daemon, true);
    assert.equal(c.secret, 's3');
    assert.equal(c.statsIntervalMs, 10_000);
    assert.equal(
      validateInterceptOptions({ ...base, secret: 'flag' }, { env: { TCPCOPY_SECRET: 's3' } }).secret,
      'flag',
    );
    assert.deepEqual(validateInterceptOptions({ ...base, bind: '10.0.0.4' }).bindAddress, {
      text: '10.0.0.4',
      family: 4,
    });
  });

  const errors: { raw: InterceptRawOptions; code: OptionErrorCode; message: string }[] = [
    {
      raw: { filter: undefined },
      code: 'MISSING_OPTION',
      message: "intercept needs -F <filter> selecting the target's responses, e.g. -F 'tcp and src port 8080'",
    },
    { raw: { filter: '' }, code: 'BAD_FORMAT', message: '-F must not be empty' },
    { raw: { port: '0' }, code: 'OUT_OF_RANGE', message: "-p must be an integer from 1 to 65535 (got '0')" },
    { raw: { bind: 'localhost' }, code: 'BAD_ADDRESS', message: "-b: 'localhost' is not an IPv4 or IPv6 address" },
    { raw: { interface: 'eth 0' }, code: 'BAD_FORMAT', message: "-i: 'eth 0' is not a network interface name" },
    { raw: { logFile: '' }, code: 'BAD_FORMAT', message: '-l must not be empty' },
    { raw: { pidFile: '' }, code: 'BAD_FORMAT', message: '-P must not be empty' },
    { raw: { secret: '' }, code: 'BAD_FORMAT', message: '--secret must not be empty' },
    {
      raw: { statsInterval: 'x' },
      code: 'OUT_OF_RANGE',
      message: "--stats-interval must be a number of seconds from 0.1 to 86400 (got 'x')",
    },
  ];
  for (const e of errors) {
    void test(e.message, () => {
      assert.throws(
        () => validateInterceptOptions({ ...base, ...e.raw }),
        (err: unknown) => err instanceof OptionError && err.code === e.code && err.message === e.message,
      );
    });
  }
});

void test('intercept --metrics [addr:]port', () => {
  const base = { filter: 'tcp and src port 8080', secret: 'x' };
  assert.deepEqual(validateInterceptOptions({ ...base, metrics: '10.77.0.4:9102' }).metrics, {
    host: '10.77.0.4',
    port: 9102,
  });
  assert.throws(() => validateInterceptOptions({ ...base, metrics: '70000' }), { code: 'BAD_PORT' });
});
