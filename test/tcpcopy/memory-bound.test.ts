// -m as a bound kept by shedding: the static bounds derived from the limit, the governor's
// decisions from memory samples (live data and resident set; deterministic), and the shedder edge
// on mocked timers with fake samples, a fake replicator and a recording logger.
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
import { MEMORY_SAMPLE_MS, MemoryShedder } from '../../src/tcpcopy/memory-shedder.js';
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
  canCollect = true,
): {
  sample: (m: MemorySample, live: { sessions: number; queuedBytes: number }) => Plain;
  readonly bounds: EngineBounds;
  growths: (number | null)[];
} {
  const g = new MemoryGovernor(limit, ceiling, canCollect);
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

/** Sequences of checks for the property tests: live data, live sessions, queued bytes. */
const sampleSequences = fc.array(
  fc.record({
    live: fc.integer({ min: 0, max: 200 * MB }),
    sessions: fc.integer({ min: 0, max: 20_000 }),
    queued: fc.integer({ min: 0, max: 100 * MB }),
  }),
  { maxLength: 60 },
);

describe('MemoryGovernor', () => {
  const ceiling: EngineBounds = { sessions: 10_000, queuedBytes: 64 * MB };
  // A limit that leaves a budget of 100 MB of live data.
  const limit = NATIVE_BYTES + 225 * MB;

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
    // The next check, still over: held (the used heap holds the garbage of the sessions just shed
    // until the next collection, COLLECT_EVERY_CHECKS checks after the last).
    assert.equal(COLLECT_EVERY_CHECKS, 2);
    assert.deepEqual(g.sample(mem(88 * MB), { sessions: 4_000, queuedBytes: 16 * MB }), {
      collect: false,
      bounds: null,
      event: null,
    });
    // The one after: a collection, and the sample after it lowers again, without a second event.
    assert.equal(g.sample(mem(88 * MB), { sessions: 4_000, queuedBytes: 16 * MB }).collect, true);
    assert.deepEqual(g.sample(mem(88 * MB), { sessions: 4_000, queuedBytes: 16 * MB }), {
      collect: false,
      bounds: { sessions: 3_200, queuedBytes: Math.floor(16 * MB * 0.8) },
      event: null,
    });
    // Between the waters: held.
    assert.deepEqual(g.sample(mem(70 * MB), { sessions: 256, queuedBytes: 1 * MB }), {
      collect: false,
      bounds: null,
      event: null,
    });
    assert.equal(g.bounds.sessions, 3_200);
  });

  test('without collections to be had, every check under pressure lowers', () => {
    const g = governor(limit, ceiling, false);
    assert.deepEqual(g.sample(mem(90 * MB), { sessions: 5_000, queuedBytes: 0 }).bounds?.sessions, 4_000);
    assert.deepEqual(g.sample(mem(90 * MB), { sessions: 4_000, queuedBytes: 0 }).bounds?.sessions, 3_200);
  });

  test('a resident set over the limit asks for a collection and sheds nothing by itself, nor stops', () => {
    const g = governor(limit, ceiling);
    assert.equal(g.sample(mem(1 * MB, limit + 1), { sessions: 5_000, queuedBytes: 0 }).collect, true);
    assert.deepEqual(g.sample(mem(1 * MB, limit + 1), { sessions: 5_000, queuedBytes: 0 }), {
      collect: false,
      bounds: null,
      event: null,
    });
    for (let i = 0; i < 3 * STUCK_CHECKS; i++) {
      const d = g.sample(mem(1 * MB, limit + 1), { sessions: 0, queuedBytes: 0 });
      assert.equal(d.bounds, null);
      assert.equal(d.event, null);
    }
    assert.deepEqual(g.bounds, ceiling);
  });

  test('property, with collections as the shedder runs them: bounds stay within floors and the ceiling; lowered only after a collection or over the budget', () => {
    fc.assert(
      fc.property(sampleSequences, (samples) => {
        const g = governor(limit, ceiling);
        for (const s of samples) {
          const live = { sessions: s.sessions, queuedBytes: s.queued };
          const before = g.bounds;
          let d = g.sample(mem(s.live), live);
          const collected = d.collect;
          if (collected) d = g.sample(mem(s.live), live);
          const b = g.bounds;
          assert.ok(b.sessions >= MIN_SESSIONS && b.sessions <= ceiling.sessions, JSON.stringify(b));
          assert.ok(b.queuedBytes >= MIN_BACKLOG_BYTES && b.queuedBytes <= ceiling.queuedBytes, JSON.stringify(b));
          const lowered = b.sessions < before.sessions || b.queuedBytes < before.queuedBytes;
          if (lowered) assert.ok(collected || s.live > 100 * MB, `lowered at ${s.live} without a collection`);
        }
      }),
      { seed: 15, numRuns: 300 },
    );
  });

  test('never above what is in force, never below the floors', () => {
    const g = governor(limit, ceiling, false);
    // More live than the bound (not possible in the engine, but the governor must not raise).
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

  test('stuck: over the budget at the floors with nothing live above them for STUCK_CHECKS checks; a session above them resets the count', () => {
    const g = governor(limit, ceiling);
    const over = 100 * MB + 1;
    // One check: a sample, and a second one right after when the first asked for a collection.
    const check = (sessions: number): Plain => {
      const d = g.sample(mem(over), { sessions, queuedBytes: 0 });
      return d.collect ? g.sample(mem(over), { sessions, queuedBytes: 0 }) : d;
    };
    // The first check lowers the bounds to their floors; the count starts at the next.
    for (let i = 0; i < STUCK_CHECKS; i++) assert.notEqual(check(0).event?.kind, 'stuck', `check ${i + 1}`);
    assert.deepEqual(g.bounds, { sessions: MIN_SESSIONS, queuedBytes: MIN_BACKLOG_BYTES });
    check(MIN_SESSIONS + 1); // more live than the floor: shedding is not done
    for (let i = 0; i < STUCK_CHECKS - 1; i++) assert.notEqual(check(0).event?.kind, 'stuck');
    assert.deepEqual(check(0), {
      collect: false,
      bounds: null,
      event: { kind: 'stuck', liveBytes: over, rssBytes: over },
    });
  });

  test('heap growth: tight above half the limit (resident), V8 own again under 35 %, told only on a change', () => {
    const g = governor(limit, ceiling);
    const live = { sessions: 0, queuedBytes: 0 };
    for (const share of [0.4, 0.51, 0.6, 0.45, 0.36, 0.34, 0.2, 0.55]) g.sample(mem(1 * MB, share * limit), live);
    assert.deepEqual(g.growths, [null, TIGHT_GROWTH_PERCENT, null, null, null, 0, null, TIGHT_GROWTH_PERCENT]);
  });

  test('property: bounds stay within floors and the ceiling for any sample sequence (no collections)', () => {
    fc.assert(
      fc.property(sampleSequences, (samples) => {
        const g = governor(limit, ceiling, false);
        for (const s of samples) {
          const d = g.sample(mem(s.live), { sessions: s.sessions, queuedBytes: s.queued });
          const b = g.bounds;
          if (d.bounds !== null) assert.deepEqual(d.bounds, b);
          assert.ok(b.sessions >= MIN_SESSIONS && b.sessions <= ceiling.sessions, JSON.stringify(b));
          assert.ok(b.queuedBytes >= MIN_BACKLOG_BYTES && b.queuedBytes <= ceiling.queuedBytes, JSON.stringify(b));
          // Without collections, pressure lowers at once: never more than what is live (or the floor).
          if (s.live > HIGH_WATER * 100 * MB) assert.ok(b.sessions <= Math.max(MIN_SESSIONS, s.sessions));
        }
      }),
      { seed: 15, numRuns: 500 },
    );
  });
});

describe('MemoryShedder', () => {
  test('gives the replicator the lowered bounds, logs the episode, asks to stop only when stuck', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const check = (n = 1): void => {
      for (let i = 0; i < n; i++) t.mock.timers.tick(MEMORY_SAMPLE_MS);
    };
    let liveMb = 50;
    const given: EngineBounds[] = [];
    const live = { sessions: 1000, queuedBytes: 2 * MB };
    const target = { liveFigures: () => live, setBounds: (b: EngineBounds) => given.push(b) };
    const { logger, lines } = recordingLogger();
    let collections = 0;
    const growthSet: number[] = [];
    const limit = NATIVE_BYTES + 225 * MB; // a budget of 100 MB of live data
    const shedder = new MemoryShedder(
      limit,
      { sessions: 5000, queuedBytes: 25 * MB },
      target,
      logger,
      MEMORY_SAMPLE_MS,
      () => mem(liveMb * MB, liveMb * MB * 1.5),
      () => {
        collections++;
      },
      (p) => growthSet.push(p),
    );
    const stops: StopRequest[] = [];
    shedder.start((r) => stops.push(r));
    check(3);
    assert.deepEqual(given, [], 'under the high water: nothing');
    liveMb = 95;
    check();
    assert.equal(collections, 1, 'a full collection before the first shedding');
    assert.deepEqual(given, [{ sessions: 800, queuedBytes: Math.floor(2 * MB * 0.8) }]);
    assert.match(
      lines.join(''),
      /live data 95\.0 MB is over 85 % of the 100\.0 MB the -m limit of 281\.0 MB leaves: shedding the oldest sessions \(bounds now 800 sessions, 1\.6 MB of backlog\)/,
    );
    check();
    assert.equal(given.length, 1, 'the check after holds the bounds (no collection due, none lowered)');
    liveMb = 10;
    check(14); // a quarter more per check: 1.6 MB of backlog bound is back at 25 MB after 13

    assert.deepEqual(given.at(-1), { sessions: 5000, queuedBytes: 25 * MB });
    assert.match(
      lines.join(''),
      /live data 10\.0 MB is under 60 % of the 100\.0 MB budget again: bounds back at 5000 sessions, 25\.0 MB of backlog/,
    );
    assert.deepEqual(stops, []);
    // Over, with nothing left to shed: the bounds reach their floors, then STUCK_CHECKS checks.
    liveMb = 200;
    live.sessions = 0;
    live.queuedBytes = 0;
    check(STUCK_CHECKS);
    assert.deepEqual(stops, [], 'not before STUCK_CHECKS checks at the floors');
    check();
    assert.deepEqual(stops, [
      {
        reason:
          'live data 200.0 MB (resident 300.0 MB) is over what the -m limit of 281.0 MB allows (100.0 MB live) with nothing left to shed (10 s), stopping',
        exitCode: 1,
      },
    ]);
    shedder.stop();
    assert.match(
      lines.at(-1) ?? '',
      new RegExp(
        `memory: resident peak 300\\.0 MB of the -m limit of 281\\.0 MB, \\d+ bound change\\(s\\) for memory, ${collections} full collection\\(s\\)`,
      ),
    );
    assert.equal(shedder.collections, collections);
    assert.deepEqual(growthSet, [TIGHT_GROWTH_PERCENT, 0, TIGHT_GROWTH_PERCENT], 'V8 heap growth: tight, own, tight');
  });
});
