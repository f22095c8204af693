// Offline replay options: --offline, -i FILE, -a, -I, -T, --top-speed, --pps, --rps, --report-json,
// --transport; their conversion, their one-line errors, and the command line through bin/tcpcopy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionError, validateTcpcopyOptions } from '../../src/cli/options/index.js';
import type { OptionErrorCode, TcpcopyRawOptions } from '../../src/cli/options/index.js';

const base: TcpcopyRawOptions = { transfer: '80-10.0.0.2:8080', intercept: '10.0.0.3' };
const files = new Set(['/captures/a.pcapng']);
const v = (extra: TcpcopyRawOptions) =>
  validateTcpcopyOptions({ ...base, ...extra }, { isRegularFile: (p) => files.has(p) });

function fails(extra: TcpcopyRawOptions, code: OptionErrorCode, message: RegExp): void {
  assert.throws(
    () => v(extra),
    (e: unknown) => e instanceof OptionError && e.code === code && message.test(e.message) && !e.message.includes('\n'),
  );
}

test('without --offline: live capture, packet transport', () => {
  const c = v({ interface: 'eth0' });
  assert.equal(c.offline, null);
  assert.equal(c.transport, 'packet');
  assert.deepEqual(c.interfaces, ['eth0']);
});

test('--offline FILE with defaults: capture timing, one loop, no JSON report', () => {
  const c = v({ offline: 'x.pcap' });
  assert.deepEqual(c.offline, {
    file: 'x.pcap',
    accel: 1,
    idleMs: null,
    loops: 1,
    topSpeed: false,
    pps: null,
    rps: null,
    reportJson: null,
    strictFile: false,
  });
  assert.deepEqual(c.interfaces, []);
});

test('-i FILE is offline replay when FILE is a regular file, a device otherwise', () => {
  const c = v({
    interface: '/captures/a.pcapng',
    accelerate: '2.5',
    idleCompress: '250',
    loops: '3',
    reportJson: 'r.json',
  });
  assert.deepEqual(c.offline, {
    file: '/captures/a.pcapng',
    accel: 2.5,
    idleMs: 250,
    loops: 3,
    topSpeed: false,
    pps: null,
    rps: null,
    reportJson: 'r.json',
    strictFile: false,
  });
  assert.deepEqual(c.interfaces, []);
  assert.equal(v({ interface: 'eth1' }).offline, null);
});

test('-a takes fractions; --top-speed; --transport socket needs no -s', () => {
  assert.equal(v({ offline: 'f', accelerate: '0.25' }).offline?.accel, 0.25);
  assert.equal(v({ offline: 'f', accelerate: '.5' }).offline?.accel, 0.5);
  assert.equal(v({ offline: 'f', topSpeed: true }).offline?.topSpeed, true);
  const s = validateTcpcopyOptions({ transfer: '80-127.0.0.2:8080', offline: 'f', transport: 'socket' });
  assert.equal(s.transport, 'socket');
  assert.deepEqual(s.intercepts, []);
});

test('bad values and combinations: one-line errors with codes', () => {
  fails({ offline: 'f', accelerate: '0' }, 'OUT_OF_RANGE', /^-a must be a number greater than 0/);
  fails({ offline: 'f', accelerate: '-2' }, 'OUT_OF_RANGE', /^-a must be/);
  fails({ offline: 'f', accelerate: 'fast' }, 'OUT_OF_RANGE', /got 'fast'/);
  fails({ offline: 'f', idleCompress: '1.5' }, 'OUT_OF_RANGE', /^-I must be an integer from 0 to 86400000/);
  fails({ offline: 'f', loops: '0' }, 'OUT_OF_RANGE', /^-T must be an integer from 1/);
  fails({ offline: 'f', topSpeed: true, accelerate: '2' }, 'CONFLICT', /^--top-speed ignores timing/);
  fails({ offline: '' }, 'BAD_FORMAT', /^--offline must not be empty/);
  fails({ offline: 'f', reportJson: ' ' }, 'BAD_FORMAT', /^--report-json must not be empty/);
  fails({ offline: 'f', interface: 'eth0' }, 'CONFLICT', /^--offline f replays a file: -i eth0/);
  fails({ accelerate: '2' }, 'CONFLICT', /^-a applies to offline replay only: add --offline FILE/);
  fails({ loops: '2' }, 'CONFLICT', /^-T applies to offline replay only/);
  fails({ topSpeed: true }, 'CONFLICT', /^--top-speed applies to offline replay only/);
  fails({ reportJson: 'r.json' }, 'CONFLICT', /^--report-json applies to offline replay only/);
  fails({ offline: 'f', transport: 'udp' }, 'BAD_FORMAT', /^--transport must be 'packet' or 'socket' \(got 'udp'\)/);
  assert.throws(
    () => validateTcpcopyOptions({ transfer: '80-10.0.0.2:8080', offline: 'f' }),
    (e: unknown) => e instanceof OptionError && e.code === 'MISSING_OPTION',
  );
});

const root = fileURLToPath(new URL('../../..', import.meta.url));

test('bin/tcpcopy: -i FILE and the offline flags reach --print-config; bad values exit 2 with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offline-opt-'));
  try {
    const file = join(dir, 'c.pcap');
    writeFileSync(file, Buffer.alloc(0));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [`${root}bin/tcpcopy`, '-x', '80-10.0.0.2:8080', '-s', '10.0.0.3', ...args], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    const r = run([
      '-i',
      file,
      '-a',
      '4',
      '-I',
      '100',
      '-T',
      '2',
      '--report-json',
      join(dir, 'r.json'),
      '--print-config',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { offline: unknown; transport: string; interfaces: unknown };
    assert.deepEqual(c.offline, {
      file,
      accel: 4,
      idleMs: 100,
      loops: 2,
      topSpeed: false,
      pps: null,
      rps: null,
      reportJson: join(dir, 'r.json'),
      strictFile: false,
    });
    assert.equal(c.transport, 'packet');
    assert.deepEqual(c.interfaces, []);
    const bad = run(['--offline', file, '-a', '0', '--print-config']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /^tcpcopy: error: -a must be a number greater than 0/);
    assert.match(
      run(['--help']).stdout,
      /--offline <file>[\s\S]*-a, --accelerate <n>[\s\S]*-I, --idle-compress <ms>[\s\S]*-T, --loops <n>[\s\S]*--top-speed[\s\S]*--report-json <file>[\s\S]*--transport <kind>/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--strict-file is an offline option', () => {
  assert.equal(v({ offline: 'x.pcap', strictFile: true }).offline?.strictFile, true);
  fails({ strictFile: true }, 'CONFLICT', /^--strict-file applies to offline replay only: add --offline FILE$/);
});

test('--pps and --rps: integers from 1 to 10000000, on top of the timing or --top-speed', () => {
  const c = v({ offline: 'f', pps: '500', rps: ' 20 ' }).offline;
  assert.equal(c?.pps, 500);
  assert.equal(c?.rps, 20);
  assert.equal(v({ offline: 'f', topSpeed: true, rps: '10000000' }).offline?.rps, 10_000_000);
  assert.equal(v({ offline: 'f', accelerate: '4', pps: '1' }).offline?.pps, 1);
  fails({ offline: 'f', pps: '0' }, 'OUT_OF_RANGE', /^--pps must be an integer from 1 to 10000000 \(got '0'\)$/);
  fails({ offline: 'f', rps: '10000001' }, 'OUT_OF_RANGE', /^--rps must be an integer from 1 to 10000000/);
  fails({ offline: 'f', rps: '2.5' }, 'OUT_OF_RANGE', /^--rps must be an integer/);
  fails({ offline: 'f', pps: 'fast' }, 'OUT_OF_RANGE', /got 'fast'/);
  fails({ offline: 'f', rps: '' }, 'OUT_OF_RANGE', /^--rps must be an integer/);
});

test('--pps and --rps are refused live, --pps over sockets (with the reason)', () => {
  const live = /a live replay runs at the online server's pace/;
  fails({ interface: 'eth0', pps: '100' }, 'CONFLICT', new RegExp(`^--pps does not apply here: ${live.source}`));
  fails({ interface: 'eth0', rps: '100' }, 'CONFLICT', new RegExp(`^--rps does not apply here: ${live.source}`));
  const sock = (extra: TcpcopyRawOptions): unknown =>
    validateTcpcopyOptions({ transfer: '80-127.0.0.2:8080', transport: 'socket', ...extra });
  const refused = (extra: TcpcopyRawOptions, message: RegExp): void =>
    assert.throws(
      () => sock(extra),
      (e: unknown) => e instanceof OptionError && e.code === 'CONFLICT' && message.test(e.message),
    );
  refused({ interface: 'eth0', rps: '100' }, new RegExp(`^--rps does not apply here: ${live.source}`));
  refused(
    { offline: 'f', pps: '100' },
    /^--pps does not apply here: --transport socket sends through the kernel's TCP, which makes the packets: cap its requests with --rps$/,
  );
  const s = validateTcpcopyOptions({ transfer: '80-127.0.0.2:8080', offline: 'f', transport: 'socket', rps: '50' });
  assert.equal(s.offline?.rps, 50);
  assert.equal(s.offline?.pps, null);
});
