// The minimal logger: the C tool's line shape, level filtering, one record per line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, formatLogLine, formatLogTime } from '../../src/log/index.js';

const T = Date.UTC(2026, 10, 23, 9, 5, 7, 42); // 2026-11-23 09:05:07.042 UTC

test('formatLogTime: YYYY/MM/DD HH:MM:SS +mmm', () => {
  assert.equal(formatLogTime(T, true), '2026/11/23 09:05:07 +042');
  assert.equal(formatLogTime(0, true), '1970/01/01 00:00:00 +000');
  assert.match(formatLogTime(T), /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \+042$/);
});

test('formatLogLine: time, level, text, one line', () => {
  assert.equal(formatLogLine(T, 'notice', 'active:1', true), '2026/11/23 09:05:07 +042 [notice] active:1\n');
  assert.equal(formatLogLine(T, 'warn', 'a\nb\r\nc', true), '2026/11/23 09:05:07 +042 [warn] a b c\n');
});

test('createLogger: writes at or above the minimum level, with the given clock', () => {
  const out: string[] = [];
  let now = T;
  const log = createLogger({ write: (l) => out.push(l), now: () => now, minLevel: 'notice', utc: true });
  log.debug('d');
  log.info('i');
  log.notice('n');
  now += 1000;
  log.warn('w');
  log.error('e');
  log.lines([
    { level: 'info', text: 'hidden' },
    { level: 'notice', text: 'shown' },
  ]);
  assert.deepEqual(out, [
    '2026/11/23 09:05:07 +042 [notice] n\n',
    '2026/11/23 09:05:08 +042 [warn] w\n',
    '2026/11/23 09:05:08 +042 [error] e\n',
    '2026/11/23 09:05:08 +042 [notice] shown\n',
  ]);
  const all: string[] = [];
  createLogger({ write: (l) => all.push(l), now: () => T, utc: true }).info('x');
  assert.deepEqual(all, ['2026/11/23 09:05:07 +042 [info] x\n']);
});
