// ReopeningCapture on fake sources: batches pass through; a capture that fails while running is
// closed, its drops kept, and opened again every retryMs until that works (failed opens retried,
// not thrown); the first open's error is the caller's; close() stops the retries and counts the
// last capture's drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ReopeningCapture } from '../../src/capture/index.js';
import type { CaptureBatch, PacketSource } from '../../src/capture/index.js';

class FakeSource extends EventEmitter implements PacketSource {
  closed = false;
  constructor(readonly dropped: number) {
    super();
  }
  stats(): { dropped: number } {
    return { dropped: this.dropped };
  }
  close(): void {
    this.closed = true;
  }
}

const batch = (n: number): CaptureBatch => ({ count: n }) as unknown as CaptureBatch;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void test('a capture lost while running is opened again until it works; batches flow through the same object', async () => {
  const opened: FakeSource[] = [];
  let failOpens = 0;
  const events: string[] = [];
  let clock = 0;
  const r = await ReopeningCapture.open({
    open: () => {
      if (failOpens > 0) {
        failOpens--;
        return Promise.reject(new Error('ENETDOWN'));
      }
      const s = new FakeSource(opened.length === 0 ? 5 : 2);
      opened.push(s);
      return Promise.resolve(s);
    },
    onLost: (e) => events.push(`lost ${e.message}`),
    onBack: (downMs, attempts) => events.push(`back ${downMs} ${attempts}`),
    retryMs: 5,
    nowMs: () => clock,
  });
  const got: number[] = [];
  r.on('batch', (b: CaptureBatch) => got.push(b.count));
  opened[0]!.emit('batch', batch(3));
  assert.deepEqual(got, [3]);
  assert.equal(r.capturing, true);
  failOpens = 2;
  clock = 100;
  opened[0]!.emit('error', new Error('the device went down'));
  assert.equal(opened[0]!.closed, true);
  assert.equal(r.capturing, false);
  assert.deepEqual(r.stats(), { dropped: 5 }, 'the lost capture keeps its drops');
  clock = 1600;
  for (let i = 0; i < 200 && !r.capturing; i++) await sleep(5);
  assert.equal(r.capturing, true);
  assert.deepEqual(events, ['lost the device went down', 'back 1500 3']);
  opened[0]!.emit('batch', batch(9)); // the old capture says nothing any more
  opened[0]!.emit('error', new Error('late'));
  opened[1]!.emit('batch', batch(4));
  assert.deepEqual(got, [3, 4]);
  assert.equal(r.lost, 1);
  await r.close();
  assert.equal(opened[1]!.closed, true);
  assert.deepEqual(r.stats(), { dropped: 7 }, 'drops of both, after the close too');
});

void test('the first open throws to the caller; close() while reopening stops the retries', async () => {
  await assert.rejects(
    ReopeningCapture.open({
      open: () => Promise.reject(new Error('EBADFILTER')),
      onLost: () => assert.fail(),
      onBack: () => assert.fail(),
    }),
    /EBADFILTER/,
  );
  let opens = 0;
  const first = new FakeSource(0);
  const r = await ReopeningCapture.open({
    open: () => (opens++ === 0 ? Promise.resolve(first) : Promise.reject(new Error('ENODEV'))),
    onLost: () => undefined,
    onBack: () => assert.fail('never back'),
    retryMs: 5,
  });
  first.emit('error', new Error('gone'));
  await sleep(30);
  const tries = opens;
  assert.ok(tries >= 2, `${tries} opens`);
  await r.close();
  await sleep(30);
  assert.equal(opens, tries, 'no retry after close');
});
