// -m as a bound kept by shedding: the static bounds derived from the limit, the governor's
// decisions from resident set sizes (deterministic), and the shedder edge with a fake RSS, a fake
// replicator and a recording logger.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  HIGH_WATER,
  LOW_WATER,
  MIN_BACKLOG_BYTES,
  MIN_SESSIONS,
  MemoryGovernor,
  SESSION_BYTES_ESTIMATE,
  STUCK_CHECKS,
  staticBounds,
} from '../../src/tcpcopy/memory-bound.js';
import { MemoryShedder } from '../../src/tcpcopy/memory-shedder.js';
import type { EngineBounds } from '../../src/session/index.js';
import type { StopRequest } from '../../src/process/supervise.js';
import { recordingLogger } from '../support/fakes.js';

const MB = 1024 * 1024;

describe('staticBounds', () => {
  test('half the limit for sessions at the estimate each; the backlog held to a quarter', () => {
    assert.equal(SESSION_BYTES_ESTIMATE, 4096);
    assert.deepEqual(staticBounds(2048 * MB, 512 * MB), { sessions: 262_144, queuedBytes: 512 * MB });
    assert.deepEqual(staticBounds(256 * MB, 512 * MB), { sessions: 32_768, queuedBytes: 64 * MB });
    assert.deepEqual(staticBounds(256 * MB, 10 * MB), { sessions: 32_768, queuedBytes: 10 * MB });
    assert.deepEqual(staticBounds(256 * MB, 0), { sessions: 32_768, queuedBytes: 64 * MB }, '--max-backlog 0');
    assert.deepEqual(staticBounds(16 * MB, 0), { sessions: 2048, queuedBytes: 4 * MB });
    assert.deepEqual(staticBounds(1 * MB, 0), { sessions: MIN_SESSIONS, queuedBytes: MIN_BACKLOG_BYTES }, 'floors');
  });
});

describe('MemoryGovernor', () => {
  const ceiling: EngineBounds = { sessions: 10_000, queuedBytes: 64 * MB };
  const limit = 100 * MB;

  test('under the high water: nothing changes', () => {
    const g = new MemoryGovernor(limit, ceiling);
    assert.deepEqual(g.sample(HIGH_WATER * limit, { sessions: 9_000, queuedBytes: 60 * MB }), {
      bounds: null,
      event: null,
    });
    assert.deepEqual(g.bounds, ceiling);
  });

  test('over it: both bounds go to 80 % of what is live, the event once per episode', () => {
    const g = new MemoryGovernor(limit, ceiling);
    const d = g.sample(90 * MB, { sessions: 5_000, queuedBytes: 20 * MB });
    const lowered = { sessions: 4_000, queuedBytes: 16 * MB };
    assert.deepEqual(d, { bounds: lowered, event: { kind: 'shedding', rssBytes: 90 * MB, bounds: lowered } });
    // Still over with the engine at the new bounds: lower again, no second event.
    const d2 = g.sample(88 * MB, { sessions: 4_000, queuedBytes: 16 * MB });
    assert.deepEqual(d2, { bounds: { sessions: 3_200, queuedBytes: Math.floor(16 * MB * 0.8) }, event: null });
    // Between the waters: held.
    assert.deepEqual(g.sample(70 * MB, { sessions: 3_200, queuedBytes: 1 * MB }), { bounds: null, event: null });
    assert.deepEqual(g.bounds.sessions, 3_200);
  });

  test('never above what is in force, never below the floors', () => {
    const g = new MemoryGovernor(limit, ceiling);
    // More live than the bound (not possible in the engine, but the governor must not raise).
    assert.equal(g.sample(99 * MB, { sessions: 50_000, queuedBytes: 500 * MB }).bounds, null, 'unchanged');
    assert.deepEqual(g.bounds, ceiling);
    assert.deepEqual(g.sample(99 * MB, { sessions: 3, queuedBytes: 10 }).bounds, {
      sessions: MIN_SESSIONS,
      queuedBytes: MIN_BACKLOG_BYTES,
    });
  });

  test('under the low water it raises by a quarter per check up to the ceiling, then says relieved', () => {
    const g = new MemoryGovernor(limit, ceiling);
    g.sample(95 * MB, { sessions: 4_000, queuedBytes: 8 * MB }); // → 3,200 sessions, 6.4 MB
    const seen: number[] = [];
    let relieved = 0;
    for (let i = 0; i < 40; i++) {
      const d = g.sample(LOW_WATER * limit - 1, { sessions: 100, queuedBytes: 0 });
      if (d.bounds !== null) seen.push(d.bounds.sessions);
      if (d.event?.kind === 'relieved') relieved++;
    }
    assert.deepEqual(seen.slice(0, 3), [4_000, 5_000, 6_250]);
    assert.equal(seen.at(-1), 10_000);
    assert.deepEqual(g.bounds, ceiling);
    assert.equal(relieved, 1);
    // Relieved: a low sample changes nothing any more.
    assert.deepEqual(g.sample(10 * MB, { sessions: 0, queuedBytes: 0 }), { bounds: null, event: null });
  });

  test('a ceiling of 0 (no bound) is returned to at once', () => {
    const g = new MemoryGovernor(limit, { sessions: 0, queuedBytes: 0 });
    assert.deepEqual(g.sample(90 * MB, { sessions: 1000, queuedBytes: 10 * MB }).bounds, {
      sessions: 800,
      queuedBytes: 8 * MB,
    });
    const d = g.sample(1 * MB, { sessions: 10, queuedBytes: 0 });
    assert.deepEqual(d, { bounds: { sessions: 0, queuedBytes: 0 }, event: { kind: 'relieved', rssBytes: 1 * MB } });
  });

  test('stuck: over the limit with nothing to shed for STUCK_CHECKS checks in a row; anything to shed resets the count', () => {
    const g = new MemoryGovernor(limit, ceiling);
    const over = limit + 1;
    for (let i = 0; i < STUCK_CHECKS - 1; i++)
      assert.notEqual(g.sample(over, { sessions: 0, queuedBytes: 0 }).event?.kind, 'stuck');
    g.sample(over, { sessions: 1, queuedBytes: 0 }); // something to shed: the count starts again
    for (let i = 0; i < STUCK_CHECKS - 1; i++)
      assert.notEqual(g.sample(over, { sessions: 0, queuedBytes: 0 }).event?.kind, 'stuck');
    assert.deepEqual(g.sample(over, { sessions: 0, queuedBytes: 0 }), {
      bounds: null,
      event: { kind: 'stuck', rssBytes: over },
    });
  });

  test('property: bounds stay within floors and the ceiling for any sample sequence', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            rss: fc.integer({ min: 0, max: 200 * MB }),
            sessions: fc.integer({ min: 0, max: 20_000 }),
            queued: fc.integer({ min: 0, max: 100 * MB }),
          }),
          { maxLength: 60 },
        ),
        (samples) => {
          const g = new MemoryGovernor(limit, ceiling);
          for (const s of samples) {
            const d = g.sample(s.rss, { sessions: s.sessions, queuedBytes: s.queued });
            const b = g.bounds;
            if (d.bounds !== null) assert.deepEqual(d.bounds, b);
            assert.ok(b.sessions >= MIN_SESSIONS && b.sessions <= ceiling.sessions, JSON.stringify(b));
            assert.ok(b.queuedBytes >= MIN_BACKLOG_BYTES && b.queuedBytes <= ceiling.queuedBytes, JSON.stringify(b));
            if (s.rss > HIGH_WATER * limit) assert.ok(b.sessions <= Math.max(MIN_SESSIONS, s.sessions));
          }
        },
      ),
      { seed: 15, numRuns: 500 },
    );
  });
});

describe('MemoryShedder', () => {
  test('gives the replicator the lowered bounds, logs the episode, asks to stop only when stuck', async () => {
    let rss = 50 * MB;
    const given: EngineBounds[] = [];
    const live = { sessions: 1000, queuedBytes: 2 * MB };
    const target = { liveFigures: () => live, setBounds: (b: EngineBounds) => given.push(b) };
    const { logger, lines } = recordingLogger();
    const shedder = new MemoryShedder(100 * MB, { sessions: 5000, queuedBytes: 25 * MB }, target, logger, 5, () => rss);
    const stops: StopRequest[] = [];
    shedder.start((r) => stops.push(r));
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    await sleep(30);
    assert.deepEqual(given, [], 'under the high water: nothing');
    rss = 90 * MB;
    await sleep(8);
    assert.deepEqual(given[0], { sessions: 800, queuedBytes: Math.floor(2 * MB * 0.8) });
    assert.match(
      lines.join(''),
      /memory use 90\.0 MB is over 85 % of the -m limit of 100\.0 MB: shedding the oldest sessions \(bounds now 800 sessions, 1\.6 MB of backlog\)/,
    );
    rss = 10 * MB;
    await sleep(200);
    assert.deepEqual(given.at(-1), { sessions: 5000, queuedBytes: 25 * MB });
    assert.match(
      lines.join(''),
      /memory use 10\.0 MB is under 60 % of the -m limit again: bounds back at 5000 sessions, 25\.0 MB of backlog/,
    );
    assert.deepEqual(stops, []);
    rss = 200 * MB;
    live.sessions = 0;
    live.queuedBytes = 0;
    await sleep(STUCK_CHECKS * 5 + 150);
    assert.equal(stops.length, 1);
    assert.deepEqual(stops[0], {
      reason: 'memory use 200.0 MB exceeds the -m limit of 100.0 MB with no session left to shed (0.1 s), stopping',
      exitCode: 1,
    });
    shedder.stop();
  });
});
