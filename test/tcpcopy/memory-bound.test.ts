// -m as a bound kept by shedding: the static bounds derived from the limit, the governor's
// decisions from resident set sizes (deterministic), and the shedder edge with a fake RSS, a fake
// replicator and a recording logger.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BASE_BYTES,
  COLLECT_EVERY_CHECKS,
  NATIVE_BYTES,
  liveBudget,
  HIGH_WATER,
  LOW_WATER,
  MIN_BACKLOG_BYTES,
  MIN_SESSIONS,
  MemoryGovernor,
  SESSION_BYTES_ESTIMATE,
  STUCK_CHECKS,
  TIGHT_GROWTH_PERCENT,
  staticBounds,
} from '../../src/tcpcopy/memory-bound.js';
import { MemoryShedder } from '../../src/tcpcopy/memory-shedder.js';
import type { GovernorDecision, MemorySample } from '../../src/tcpcopy/memory-bound.js';
import type { EngineBounds } from '../../src/session/index.js';
import type { StopRequest } from '../../src/process/supervise.js';
import { recordingLogger } from '../support/fakes.js';

const MB = 1024 * 1024;
/** A sample with `liveBytes` live, resident as much unless said. */
const mem = (liveBytes: number, rssBytes = liveBytes): MemorySample => ({ rssBytes, liveBytes });

describe('staticBounds', () => {
  test('half the limit above the base for sessions at the estimate each; the backlog held to a quarter', () => {
    assert.deepEqual([SESSION_BYTES_ESTIMATE, BASE_BYTES], [8192, 64 * MB]);
    assert.deepEqual(staticBounds(2048 * MB, 512 * MB), { sessions: 126_976, queuedBytes: 512 * MB });
    assert.deepEqual(staticBounds(256 * MB, 512 * MB), { sessions: 12_288, queuedBytes: 64 * MB });
    assert.deepEqual(staticBounds(256 * MB, 10 * MB), { sessions: 12_288, queuedBytes: 10 * MB });
    assert.deepEqual(staticBounds(256 * MB, 0), { sessions: 12_288, queuedBytes: 64 * MB }, '--max-backlog 0');
    assert.deepEqual(staticBounds(16 * MB, 0), { sessions: MIN_SESSIONS, queuedBytes: 4 * MB });
    assert.deepEqual(staticBounds(1 * MB, 0), { sessions: MIN_SESSIONS, queuedBytes: MIN_BACKLOG_BYTES }, 'floors');
  });
});

type Plain = Omit<GovernorDecision, 'heapGrowthPercent'>;

/** A governor whose decisions are compared without the heap growth (asserted on its own below). */
function governor(
  limit: number,
  ceiling: EngineBounds,
): {
  sample: (m: MemorySample, live: { sessions: number; queuedBytes: number }) => Plain;
  readonly bounds: EngineBounds;
  growths: (number | null)[];
} {
  const g = new MemoryGovernor(limit, ceiling);
  const growths: (number | null)[] = [];
  return {
    sample: (m, live) => {
      const { heapGrowthPercent, ...rest } = g.sample(m, live);
      growths.push(heapGrowthPercent);
      return rest;
    },
    get bounds() {
      return g.bounds;
    },
    growths,
  };
}

describe('MemoryGovernor', () => {
  const ceiling: EngineBounds = { sessions: 10_000, queuedBytes: 64 * MB };
  // A limit that leaves a budget of 100 MB of live data.
  const limit = NATIVE_BYTES + 200 * MB;

  test('the budget: the limit less the native part, over the headroom', () => {
    assert.equal(liveBudget(limit), 100 * MB);
    assert.equal(liveBudget(16 * MB), 0);
    assert.equal(new MemoryGovernor(limit, ceiling).budgetBytes, 100 * MB);
  });

  test('under the high water: nothing changes', () => {
    const g = governor(limit, ceiling);
    assert.deepEqual(g.sample(mem(HIGH_WATER * 100 * MB), { sessions: 9_000, queuedBytes: 60 * MB }), {
      collect: false,
      bounds: null,
      event: null,
    });
    assert.deepEqual(g.bounds, ceiling);
  });

  test('a high resident set with little live data (memory the allocator kept): nothing is shed', () => {
    const g = governor(limit, ceiling);
    assert.deepEqual(g.sample(mem(30 * MB, 0.99 * limit), { sessions: 9_000, queuedBytes: 0 }), {
      collect: false,
      bounds: null,
      event: null,
    });
  });

  test('over it: a collection first; a collection that freed enough changes nothing', () => {
    const g = governor(limit, ceiling);
    assert.deepEqual(g.sample(mem(90 * MB), { sessions: 5_000, queuedBytes: 20 * MB }), {
      collect: true,
      bounds: null,
      event: null,
    });
    assert.deepEqual(g.sample(mem(50 * MB), { sessions: 5_000, queuedBytes: 20 * MB }), {
      collect: false,
      bounds: null,
      event: null,
    });
    assert.deepEqual(g.bounds, ceiling);
  });

  test('still over after the collection: both bounds go to 80 % of what is live, the event once per episode', () => {
    const g = governor(limit, ceiling);
    assert.equal(g.sample(mem(90 * MB), { sessions: 5_000, queuedBytes: 20 * MB }).collect, true);
    const d = g.sample(mem(90 * MB), { sessions: 5_000, queuedBytes: 20 * MB });
    const lowered = { sessions: 4_000, queuedBytes: 16 * MB };
    assert.deepEqual(d, {
      collect: false,
      bounds: lowered,
      event: { kind: 'shedding', liveBytes: 90 * MB, bounds: lowered },
    });
    // Still over at the next checks: lower again without collecting, no second event; the next
    // collection comes COLLECT_EVERY_CHECKS checks after the last.
    const d2 = g.sample(mem(88 * MB), { sessions: 4_000, queuedBytes: 16 * MB });
    assert.deepEqual(d2, {
      collect: false,
      bounds: { sessions: 3_200, queuedBytes: Math.floor(16 * MB * 0.8) },
      event: null,
    });
    const asks: boolean[] = [];
    for (let i = 0; i < COLLECT_EVERY_CHECKS; i++)
      asks.push(g.sample(mem(88 * MB), { sessions: 10, queuedBytes: 0 }).collect);
    assert.deepEqual(asks, [false, false, true, false].slice(0, COLLECT_EVERY_CHECKS));
    // Between the waters: held.
    assert.deepEqual(g.sample(mem(70 * MB), { sessions: 256, queuedBytes: 1 * MB }), {
      collect: false,
      bounds: null,
      event: null,
    });
    assert.equal(g.bounds.sessions, MIN_SESSIONS);
  });

  test('never above what is in force, never below the floors', () => {
    const g = governor(limit, ceiling);
    // More live than the bound (not possible in the engine, but the governor must not raise).
    assert.equal(g.sample(mem(99 * MB), { sessions: 50_000, queuedBytes: 500 * MB }).collect, true);
    assert.equal(g.sample(mem(99 * MB), { sessions: 50_000, queuedBytes: 500 * MB }).bounds, null, 'unchanged');
    assert.deepEqual(g.bounds, ceiling);
    assert.deepEqual(g.sample(mem(99 * MB), { sessions: 3, queuedBytes: 10 }).bounds, {
      sessions: MIN_SESSIONS,
      queuedBytes: MIN_BACKLOG_BYTES,
    });
  });

  test('under the low water it raises by a quarter per check up to the ceiling, then says relieved', () => {
    const g = governor(limit, ceiling);
    g.sample(mem(95 * MB), { sessions: 4_000, queuedBytes: 8 * MB }); // collect
    g.sample(mem(95 * MB), { sessions: 4_000, queuedBytes: 8 * MB }); // → 3,200 sessions, 6.4 MB
    const seen: number[] = [];
    let relieved = 0;
    for (let i = 0; i < 40; i++) {
      const d = g.sample(mem(LOW_WATER * 100 * MB - 1), { sessions: 100, queuedBytes: 0 });
      if (d.bounds !== null) seen.push(d.bounds.sessions);
      if (d.event?.kind === 'relieved') relieved++;
    }
    assert.deepEqual(seen.slice(0, 3), [4_000, 5_000, 6_250]);
    assert.equal(seen.at(-1), 10_000);
    assert.deepEqual(g.bounds, ceiling);
    assert.equal(relieved, 1);
    // Relieved: a low sample changes nothing any more.
    assert.deepEqual(g.sample(mem(10 * MB), { sessions: 0, queuedBytes: 0 }), {
      collect: false,
      bounds: null,
      event: null,
    });
  });

  test('a ceiling of 0 (no bound) is returned to at once', () => {
    const g = governor(limit, { sessions: 0, queuedBytes: 0 });
    assert.equal(g.sample(mem(90 * MB), { sessions: 1000, queuedBytes: 10 * MB }).collect, true);
    assert.deepEqual(g.sample(mem(90 * MB), { sessions: 1000, queuedBytes: 10 * MB }).bounds, {
      sessions: 800,
      queuedBytes: 8 * MB,
    });
    const d = g.sample(mem(1 * MB), { sessions: 10, queuedBytes: 0 });
    assert.deepEqual(d, {
      collect: false,
      bounds: { sessions: 0, queuedBytes: 0 },
      event: { kind: 'relieved', liveBytes: 1 * MB },
    });
  });

  test('stuck: over the limit with nothing to shed for STUCK_CHECKS checks in a row; anything to shed resets the count', () => {
    const g = governor(limit, ceiling);
    const over = limit + 1;
    // One check: a sample, and a second one right after when the first asked for a collection.
    const check = (sessions: number): Plain => {
      const d = g.sample(mem(over), { sessions, queuedBytes: 0 });
      return d.collect ? g.sample(mem(over), { sessions, queuedBytes: 0 }) : d;
    };
    for (let i = 0; i < STUCK_CHECKS - 1; i++) assert.notEqual(check(0).event?.kind, 'stuck');
    check(1); // something to shed: the count starts again
    for (let i = 0; i < STUCK_CHECKS - 1; i++) assert.notEqual(check(0).event?.kind, 'stuck');
    assert.deepEqual(check(0), { collect: false, bounds: null, event: { kind: 'stuck', liveBytes: over } });
  });

  test('heap growth: tight above half the limit (resident), V8 own again under 35 %, told only on a change', () => {
    const g = governor(limit, ceiling);
    const live = { sessions: 0, queuedBytes: 0 };
    for (const share of [0.4, 0.51, 0.6, 0.45, 0.36, 0.34, 0.2, 0.55]) g.sample(mem(1 * MB, share * limit), live);
    assert.deepEqual(g.growths, [null, TIGHT_GROWTH_PERCENT, null, null, null, 0, null, TIGHT_GROWTH_PERCENT]);
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
          const g = governor(limit, ceiling);
          for (const s of samples) {
            const d = g.sample(mem(s.rss), { sessions: s.sessions, queuedBytes: s.queued });
            const b = g.bounds;
            if (d.bounds !== null) assert.deepEqual(d.bounds, b);
            assert.ok(b.sessions >= MIN_SESSIONS && b.sessions <= ceiling.sessions, JSON.stringify(b));
            assert.ok(b.queuedBytes >= MIN_BACKLOG_BYTES && b.queuedBytes <= ceiling.queuedBytes, JSON.stringify(b));
            if (s.rss > HIGH_WATER * 100 * MB && !d.collect)
              assert.ok(b.sessions <= Math.max(MIN_SESSIONS, s.sessions));
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
    let collections = 0;
    const growthSet: number[] = [];
    const limit = NATIVE_BYTES + 200 * MB; // a budget of 100 MB of live data
    const shedder = new MemoryShedder(
      limit,
      { sessions: 5000, queuedBytes: 25 * MB },
      target,
      logger,
      5,
      () => mem(rss, rss * 1.5),
      () => {
        collections++;
      },
      (p) => growthSet.push(p),
    );
    const stops: StopRequest[] = [];
    shedder.start((r) => stops.push(r));
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    await sleep(30);
    assert.deepEqual(given, [], 'under the high water: nothing');
    rss = 95 * MB;
    await sleep(8);
    assert.deepEqual(given[0], { sessions: 800, queuedBytes: Math.floor(2 * MB * 0.8) });
    assert.ok(collections >= 1, 'a full collection before the first shedding');
    assert.match(
      lines.join(''),
      /live data 95\.0 MB is over 85 % of the 100\.0 MB the -m limit of 256\.0 MB leaves: shedding the oldest sessions \(bounds now 800 sessions, 1\.6 MB of backlog\)/,
    );
    rss = 10 * MB;
    await sleep(200);
    assert.deepEqual(given.at(-1), { sessions: 5000, queuedBytes: 25 * MB });
    assert.match(
      lines.join(''),
      /live data 10\.0 MB is under 60 % of the 100\.0 MB budget again: bounds back at 5000 sessions, 25\.0 MB of backlog/,
    );
    assert.deepEqual(stops, []);
    rss = 200 * MB;
    live.sessions = 0;
    live.queuedBytes = 0;
    await sleep(STUCK_CHECKS * 5 + 150);
    assert.equal(stops.length, 1);
    assert.deepEqual(stops[0], {
      reason:
        'live data 200.0 MB exceeds the 100.0 MB the -m limit of 256.0 MB leaves, with no session left to shed (0.1 s), stopping',
      exitCode: 1,
    });
    shedder.stop();
    assert.match(
      lines.at(-1) ?? '',
      new RegExp(
        `memory: resident peak 300\\.0 MB of the -m limit of 256\\.0 MB, \\d+ bound change\\(s\\) for memory, ${collections} full collection\\(s\\)`,
      ),
    );
    assert.equal(shedder.collections, collections);
    assert.deepEqual(growthSet, [TIGHT_GROWTH_PERCENT, 0, TIGHT_GROWTH_PERCENT], 'V8 heap growth: tight, own, tight');
  });
});
