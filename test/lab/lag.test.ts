// Lag and replay rate from access log lines ending in $msec (pure; no root).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineTimeS, logSpan, lagFromLines, measureLag, LineCounter } from './lag.js';
import type { NginxServer } from './nginx.js';

const line = (port: number, t: number): string => `10.77.0.1 ${port} "GET / HTTP/1.1" 200 27 ${t.toFixed(3)}`;

function fakeServer(lines: () => string[]): NginxServer {
  return {
    port: 80,
    accessLogPath: '',
    pid: 1,
    logLines: () => Promise.resolve(lines()),
    stop: () => Promise.resolve(),
  };
}

void describe('access log times', () => {
  void test('the $msec field at the end of a line', () => {
    assert.equal(lineTimeS(line(1234, 1700000000.123)), 1700000000.123);
    assert.ok(Number.isNaN(lineTimeS('10.77.0.1 1234 "GET / HTTP/1.1" 200 27')));
    assert.deepEqual(logSpan([line(1, 10.5), line(2, 10.25), line(3, 11)]), { count: 3, firstS: 10.25, lastS: 11 });
    const none = logSpan([]);
    assert.equal(none.count, 0);
    assert.ok(Number.isNaN(none.firstS));
  });

  void test('lag and rate fraction of a target that replays at half the rate', () => {
    // online: 101 requests over 1 s (t = 100.00 … 101.00); target: 101 over 2 s, starting 10 ms later
    const online = Array.from({ length: 101 }, (_, i) => line(i, 100 + i / 100));
    const target = Array.from({ length: 101 }, (_, i) => line(i, 100.01 + i / 50));
    const r = lagFromLines(online, target);
    assert.equal(r.online, 101);
    assert.equal(r.replicated, 101);
    assert.ok(Math.abs(r.lagS - 1.01) < 1e-9, String(r.lagS));
    assert.ok(Math.abs(r.startDelayS - 0.01) < 1e-9, String(r.startDelayS));
    assert.ok(Math.abs(r.onlineSpanS - 1) < 1e-9);
    assert.ok(Math.abs(r.targetSpanS - 2) < 1e-9);
    assert.ok(Math.abs(r.rateFraction - 0.5) < 1e-9, String(r.rateFraction));
  });

  void test('a single line has no span, so no rate', () => {
    const r = lagFromLines([line(1, 5)], [line(1, 5.2)]);
    assert.ok(Math.abs(r.lagS - 0.2) < 1e-9);
    assert.ok(Number.isNaN(r.rateFraction));
  });

  void test('measureLag waits for the target log to settle and counts lines after the mark', async () => {
    const online = [line(1, 1), line(2, 2), line(3, 3)];
    const target = [line(1, 1.1)];
    let reads = 0;
    const rl = {
      online: fakeServer(() => online),
      target: fakeServer(() => {
        reads++;
        if (reads === 2) target.push(line(2, 2.2));
        if (reads === 3) target.push(line(3, 3.4));
        return target;
      }),
    };
    const r = await measureLag(rl, { since: { online: 1, target: 0 }, quietMs: 5, timeoutMs: 2000 });
    assert.equal(r.online, 2);
    assert.equal(r.replicated, 3);
    assert.ok(Math.abs(r.lagS - 0.4) < 1e-9, String(r.lagS));
  });
});

void describe('LineCounter', () => {
  void test('counts the lines appended since the last call; a missing file has none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linecounter-'));
    try {
      const path = join(dir, 'access.log');
      const c = new LineCounter(path);
      assert.equal(await c.count(), 0);
      appendFileSync(path, `${line(1, 1)}\n${line(2, 2)}\n`);
      assert.equal(await c.count(), 2);
      assert.equal(await c.count(), 2);
      appendFileSync(path, `${line(3, 3)}\n`.repeat(30_000)); // > 1 MiB: several reads
      assert.equal(await c.count(), 30_002);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
