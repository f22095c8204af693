// Process-option pieces that need no root: removing -d from a command line (daemon.ts) and the
// -m / -L watchdogs (supervise.ts) on real timers with short periods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import {
  OptionError,
  addInterceptOptions,
  addTcpcopyOptions,
  validateTcpcopyOptions,
} from '../../src/cli/options/index.js';
import { withoutDaemonFlag } from '../../src/process/daemon.js';
import { LonelyWatch, MemoryWatch } from '../../src/process/supervise.js';
import type { StopRequest } from '../../src/process/supervise.js';

const tcpcopyOptions = addTcpcopyOptions(new Command()).options;
const interceptOptions = addInterceptOptions(new Command()).options;

void test('withoutDaemonFlag drops -d and --daemon, in groups too, and keeps option values', () => {
  const strip = (args: string[]): string[] => withoutDaemonFlag(args, tcpcopyOptions);
  assert.deepEqual(strip(['-x', '80-10.0.0.2:8080', '-d', '-s', '10.0.0.3']), [
    '-x',
    '80-10.0.0.2:8080',
    '-s',
    '10.0.0.3',
  ]);
  assert.deepEqual(strip(['--daemon', '-L']), ['-L']);
  assert.deepEqual(strip(['-dL']), ['-L']);
  assert.deepEqual(strip(['-Ld']), ['-L']);
  assert.deepEqual(strip(['-d']), []);
  // Values are not flags: a log file called "-d", -P attached values, --opt=value.
  assert.deepEqual(strip(['-l', '-d', '-d']), ['-l', '-d']);
  assert.deepEqual(strip(['-P/tmp/d.pid', '-d']), ['-P/tmp/d.pid']);
  assert.deepEqual(strip(['-dP', 'd.pid']), ['-P', 'd.pid']);
  assert.deepEqual(strip(['-LdP', 'd.pid']), ['-LP', 'd.pid']);
  assert.deepEqual(strip(['--log-file', '--daemon', '--daemon']), ['--log-file', '--daemon']);
  assert.deepEqual(strip(['--log-file=--daemon', '--daemon']), ['--log-file=--daemon']);
  assert.deepEqual(strip(['-F', 'tcp and port 80', '-d']), ['-F', 'tcp and port 80']);
  assert.deepEqual(strip(['-d', '--', '-d']), ['--', '-d']);
  assert.deepEqual(withoutDaemonFlag(['-i', 'lo', '-d', '-P', 'i.pid'], interceptOptions), ['-i', 'lo', '-P', 'i.pid']);
});

void test('--lonely-grace: seconds to lonelyGraceMs, default 30 s, range checked', () => {
  const v = (lonelyGrace?: string): number =>
    validateTcpcopyOptions({
      transfer: '80-10.0.0.2:8080',
      intercept: '10.0.0.3',
      ...(lonelyGrace === undefined ? {} : { lonelyGrace }),
    }).lonelyGraceMs;
  assert.equal(v(), 30_000);
  assert.equal(v('1.5'), 1500);
  assert.equal(v('120'), 120_000);
  assert.throws(
    () => v('0'),
    (e: unknown) =>
      e instanceof OptionError && /--lonely-grace must be a number of seconds from 0\.1 to 86400/.test(e.message),
  );
  assert.throws(() => v('soon'), OptionError);
});

function collector(): { requests: StopRequest[]; requestStop: (r: StopRequest) => void } {
  const requests: StopRequest[] = [];
  return { requests, requestStop: (r) => requests.push(r) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void test('MemoryWatch asks for exit 1 naming both figures once the RSS exceeds the limit', async () => {
  const mb = 1024 * 1024;
  let rss = 10 * mb;
  const w = new MemoryWatch(16 * mb, 20, () => rss);
  const c = collector();
  w.start(c.requestStop);
  try {
    await sleep(120);
    assert.equal(c.requests.length, 0, 'under the limit');
    rss = 16 * mb;
    await sleep(80);
    assert.equal(c.requests.length, 0, 'at the limit');
    rss = 40.5 * mb;
    await sleep(120);
    assert.deepEqual(c.requests, [
      { reason: 'memory use 40.5 MB exceeds the -m limit of 16.0 MB, stopping', exitCode: 1 },
    ]);
  } finally {
    w.stop();
  }
});

void test('LonelyWatch: exit 1 after the grace with no connection from the start', async () => {
  const w = new LonelyWatch(100);
  const c = collector();
  const t0 = performance.now();
  w.start(c.requestStop);
  try {
    while (c.requests.length === 0 && performance.now() - t0 < 2000) await sleep(10);
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 95, `fired after ${elapsed} ms`);
    assert.deepEqual(c.requests, [
      {
        reason:
          'no intercept connection was authenticated for 0.1 s, exiting (-L keeps tcpcopy running without intercept)',
        exitCode: 1,
      },
    ]);
  } finally {
    w.stop();
  }
});

void test('LonelyWatch: a connection within the grace keeps it quiet; losing all restarts the grace', async () => {
  const w = new LonelyWatch(300);
  const c = collector();
  w.start(c.requestStop);
  try {
    await sleep(50);
    w.update(1);
    w.update(2);
    await sleep(450);
    assert.equal(c.requests.length, 0, 'connected: no exit');
    w.update(1);
    await sleep(450);
    assert.equal(c.requests.length, 0, 'one connection left: no exit');
    w.update(0);
    await sleep(100);
    w.update(1); // back within the grace
    await sleep(450);
    assert.equal(c.requests.length, 0, 'reconnected within the grace');
    w.update(0);
    await sleep(700);
    assert.deepEqual(
      c.requests.map((r) => r.reason),
      ['every intercept connection was lost for 0.3 s, exiting (-L keeps tcpcopy running without intercept)'],
    );
  } finally {
    w.stop();
  }
});

void test('LonelyWatch: stop() before the grace ends cancels it', async () => {
  const w = new LonelyWatch(50);
  const c = collector();
  w.start(c.requestStop);
  w.stop();
  w.update(0);
  await sleep(150);
  assert.equal(c.requests.length, 0);
});
