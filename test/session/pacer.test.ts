// ResponsePacer, table-driven: which chunk starts a request, and when the previous one counts as
// answered (response length, PSH/FIN, quiet period), across sequence-number wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponsePacer, startsNewRequest } from '../../src/session/index.js';

void test('startsNewRequest: only an ack ahead of the request (mod 2^32) starts a new one', () => {
  const rows: [number, number, boolean][] = [
    [101, 100, true],
    [100, 100, false],
    [99, 100, false],
    [5, 0xffff_fff0, true], // wrapped: 5 is 21 past 0xfffffff0
    [0xffff_fff0, 5, false],
  ];
  for (const [chunk, request, expected] of rows)
    assert.equal(startsNewRequest(chunk, request), expected, `${chunk} after ${request}`);
});

void test('holds: nothing is held before the base is known; learnBase fixes it once', () => {
  const p = new ResponsePacer(0, null);
  assert.equal(p.holds(5000), false);
  p.learnBase(1000);
  p.learnBase(9999);
  assert.equal(p.baseAck, 1000);
  assert.deepEqual([p.holds(1000), p.holds(1001), p.holds(999)], [false, true, false]);
  assert.equal(new ResponsePacer(0, 7).holds(8), true, 'a joined session knows its base from the start');
});

void test('answered: by length, by PSH/FIN, or after the quiet period; release and restart start counting again', () => {
  const QUIET = 100;
  // [response bytes seen, pushed, now, last target packet, expected] for a request expecting 300 bytes (ack 1300
  // after 1000).
  const rows: [number, boolean, number, number, boolean][] = [
    [0, false, 50, 40, false],
    [299, false, 50, 40, false],
    [300, false, 50, 40, true],
    [10, true, 50, 40, true],
    [10, false, 139, 40, false], // quiet from max(mark 10, last 40) = 40: not before 140
    [10, false, 140, 40, true],
    [0, false, 110, 0, true], // no target packet since the mark at 10
  ];
  for (const [bytes, push, now, last, expected] of rows) {
    const p = new ResponsePacer(10, 1000);
    p.onResponse(bytes, push);
    assert.equal(p.answered(now, 1300, last, QUIET), expected, JSON.stringify({ bytes, push, now, last }));
  }
  const p = new ResponsePacer(0, 1000);
  p.onResponse(300, true);
  p.release(1300, 500);
  assert.equal(p.baseAck, 1300);
  assert.equal(p.answered(501, 1400, 0, QUIET), false, 'counting restarted at the release');
  assert.equal(p.quietDeadline(0, QUIET), 600);
  p.onResponse(100, false);
  assert.equal(p.answered(501, 1400, 0, QUIET), true);
  p.forgetResponse();
  assert.equal(p.answered(501, 1400, 0, QUIET), false);
  p.restart(700);
  assert.equal(p.quietDeadline(650, QUIET), 800);
});
