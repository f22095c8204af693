// What tcpcopy says of failed raw sends: the first failure of a cause is warned of at once with a
// hint, a cause still failing again only after SEND_ERROR_REPEAT_MS with the count since, a cause
// that stopped failing not at all; the summary line orders causes by count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SEND_ERROR_REPEAT_MS,
  SendErrorReporter,
  formatSendErrors,
  sendErrorHint,
} from '../../src/tcpcopy/send-errors.js';

void test('warned at once, then at most every SEND_ERROR_REPEAT_MS while growing, with the count since', () => {
  const r = new SendErrorReporter();
  assert.deepEqual(r.tick(0, {}), []);
  const first = r.tick(1000, { EPERM: 40 });
  assert.equal(first.length, 1);
  assert.equal(first[0]!.level, 'warn');
  assert.match(first[0]!.text, /^raw send failed with EPERM: 40 packets \(40 in all\): a netfilter rule drops/);
  assert.deepEqual(r.tick(2000, { EPERM: 90 }), [], 'not again within the repeat interval');
  const again = r.tick(1000 + SEND_ERROR_REPEAT_MS, { EPERM: 100, ENOBUFS: 3 });
  assert.deepEqual(
    again.map((l) => l.text.replace(/:[^:]*; they are.*$/, '')),
    [
      'raw send failed with EPERM: 60 packets in the last 10 s (100 in all)',
      'raw send failed with ENOBUFS: 3 packets (3 in all)',
    ],
  );
  assert.deepEqual(r.tick(1000 + 3 * SEND_ERROR_REPEAT_MS, { EPERM: 100, ENOBUFS: 3 }), [], 'no longer failing');
  assert.match(r.tick(0, { EWHATEVER: 1 })[0]!.text, /EWHATEVER: 1 packets \(1 in all\); they are counted/);
  assert.equal(sendErrorHint('EWHATEVER'), '');
});

void test('summary line: causes by count, none when nothing failed', () => {
  assert.equal(formatSendErrors({}), null);
  assert.equal(formatSendErrors({ EPERM: 0 }), null);
  assert.deepEqual(formatSendErrors({ ENOBUFS: 2, EPERM: 21278 }), {
    level: 'notice',
    text: 'send errors by cause: EPERM 21278, ENOBUFS 2',
  });
});
