// --log-format json (src/log/json-logger.ts): one JSON object per record through pino, with the
// level's name (notice between info and warn), the injected clock's ISO time, the tool, the text as
// `msg`, and the statistics lines' `name:number` pieces as `stats`; levels below the minimum dropped;
// the option's parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJsonLogger, statsFields } from '../../src/log/index.js';
import { parseLogFormat } from '../../src/cli/options/log-format.js';
import { formatTcpcopySummary } from '../../src/stats/index.js';
import { newCounters } from '../../src/session/index.js';
import { newEdgeCounters } from '../../src/stats/index.js';

function records(run: (l: ReturnType<typeof createJsonLogger>) => void, minLevel?: 'info' | 'warn'): unknown[] {
  let out = '';
  const l = createJsonLogger({
    write: (s) => (out += s),
    now: () => Date.UTC(2026, 11, 7, 17, 30, 0, 5),
    tool: 'intercept',
    ...(minLevel === undefined ? {} : { minLevel }),
  });
  run(l);
  assert.ok(out.endsWith('\n'));
  return out
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

void test('each record one JSON line: level name, ISO time from the clock, tool, msg; stats pieces', () => {
  const r = records((l) => {
    l.notice('cache hit:7,missed:0,lost:1');
    l.warn('responses captured but no tcpcopy is connected');
    l.info('intercept listening on 0.0.0.0:36524');
    l.debug('not shown');
    l.lines([{ level: 'error', text: 'two\nlines' }]);
  });
  const time = '2026-12-07T17:30:00.005Z';
  assert.deepEqual(r, [
    {
      level: 'notice',
      time,
      tool: 'intercept',
      stats: { 'cache hit': 7, missed: 0, lost: 1 },
      msg: 'cache hit:7,missed:0,lost:1',
    },
    { level: 'warn', time, tool: 'intercept', msg: 'responses captured but no tcpcopy is connected' },
    { level: 'info', time, tool: 'intercept', msg: 'intercept listening on 0.0.0.0:36524' },
    { level: 'error', time, tool: 'intercept', msg: 'two\nlines' },
  ]);
  assert.deepEqual(
    records((l) => {
      l.notice('kept below warn? no');
      l.warn('kept');
    }, 'warn').map((x) => (x as { msg: string }).msg),
    ['kept'],
  );
});

void test('statsFields: only lines made wholly of name:number pieces', () => {
  assert.deepEqual(statsFields('send:10,send content:8'), { send: 10, 'send content': 8 });
  assert.equal(statsFields('tcpcopy summary after 3.2 s:'), null);
  assert.equal(statsFields('rates: captured 1 pkt/s'), null);
  const c = { ...newCounters(), ...newEdgeCounters(), conns: 20, sendContent: 20_000 };
  const lines = formatTcpcopySummary(c, 1000);
  const withStats = lines.map((l) => statsFields(l.text)).filter((x) => x !== null);
  assert.ok(withStats.some((s) => s['conns'] === 20));
  assert.ok(withStats.some((s) => s['send content'] === 20_000));
});

void test('--log-format: text by default, json, anything else refused', () => {
  assert.equal(parseLogFormat(undefined), 'text');
  assert.equal(parseLogFormat('text'), 'text');
  assert.equal(parseLogFormat('json'), 'json');
  assert.throws(() => parseLogFormat('yaml'), { code: 'BAD_FORMAT' });
});
