// The offline pacing is a pure function of the capture timestamps and -a/-I/-T/--top-speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplaySchedule, scheduleReleases } from '../../src/replay/packet/schedule.js';

const ms = (...v: number[]): bigint[] => v.map((x) => BigInt(Math.round(x * 1e6)) + 1_700_000_000_000_000_000n);

test('capture timing at -a 1: release times are the gaps from the first packet', () => {
  assert.deepEqual(scheduleReleases(ms(0, 100, 300, 700)), [0, 100, 300, 700]);
  assert.deepEqual(scheduleReleases(ms(0, 0.25, 1.5)), [0, 0.25, 1.5]);
});

test('-a 4 divides every gap by 4; -a 0.5 doubles them', () => {
  assert.deepEqual(
    scheduleReleases(ms(0, 100, 300, 700), { accel: 4, idleMs: null, topSpeed: false }),
    [0, 25, 75, 175],
  );
  assert.deepEqual(scheduleReleases(ms(0, 100, 300), { accel: 0.5, idleMs: null, topSpeed: false }), [0, 200, 600]);
});

test('-I cuts each capture gap longer than it (before -a), shorter gaps stay', () => {
  // gaps 100, 200, 400, 5000 with -I 250: 100, 200, 250, 250
  assert.deepEqual(
    scheduleReleases(ms(0, 100, 300, 700, 5700), { accel: 1, idleMs: 250, topSpeed: false }),
    [0, 100, 300, 550, 800],
  );
  assert.deepEqual(
    scheduleReleases(ms(0, 100, 300, 700, 5700), { accel: 2, idleMs: 250, topSpeed: false }),
    [0, 50, 150, 275, 400],
  );
  assert.deepEqual(scheduleReleases(ms(0, 10, 20), { accel: 1, idleMs: 0, topSpeed: false }), [0, 0, 0]);
});

test('-T: the next loop starts with the last release of the previous one', () => {
  assert.deepEqual(
    scheduleReleases(ms(0, 100, 300), { accel: 1, idleMs: null, topSpeed: false }, 3),
    [0, 100, 300, 300, 400, 600, 600, 700, 900],
  );
  assert.deepEqual(
    scheduleReleases(ms(0, 100, 300), { accel: 2, idleMs: null, topSpeed: false }, 2),
    [0, 50, 150, 150, 200, 300],
  );
});

test('--top-speed releases everything at 0', () => {
  assert.deepEqual(
    scheduleReleases(ms(0, 100, 300), { accel: 1, idleMs: null, topSpeed: true }, 2),
    [0, 0, 0, 0, 0, 0],
  );
});

test('timestamps going backwards count as no gap; nanoseconds are kept', () => {
  assert.deepEqual(scheduleReleases(ms(0, 100, 50, 150)), [0, 100, 100, 200]);
  const s = new ReplaySchedule();
  assert.equal(s.next(0, 5), 0);
  assert.equal(s.next(0, 5 + 1_234_567), 1.234567);
  assert.equal(s.lastReleaseMs, 1.234567);
});

test('bad schedule options are refused', () => {
  assert.throws(() => new ReplaySchedule({ accel: 0, idleMs: null, topSpeed: false }), RangeError);
  assert.throws(() => new ReplaySchedule({ accel: Number.NaN, idleMs: null, topSpeed: false }), RangeError);
  assert.throws(() => new ReplaySchedule({ accel: 1, idleMs: -1, topSpeed: false }), RangeError);
});
