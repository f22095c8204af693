// Fuzzing in `npm test` (issue 15): every parser that reads outside bytes (targets.ts) takes 3,000
// mutated and random inputs from a fixed seed and only parses or throws its own typed error.
// `npm run fuzz` runs the same properties with ≥ 1,000,000 inputs per target.
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzProperty, fuzzTargets } from './targets.js';

const targets = fuzzTargets();
for (const t of targets) {
  void test(`fuzz ${t.name}: 3,000 inputs, typed errors only`, () => {
    fc.assert(fuzzProperty(t), { seed: 15, numRuns: 3000 });
  });
}
void test('fuzz targets release what they hold', () => {
  for (const t of targets) t.close?.();
});
