// `npm run fuzz [-- COUNT [TARGET]]`: every fuzz target (targets.ts) with COUNT inputs (default
// 1,000,000) from a seed printed first (TCPCOPY_FUZZ_SEED repeats a run); prints inputs, typed
// errors, time and rate per target. Exit 1 when a target failed (the counterexample is printed).
import fc from 'fast-check';
import { fuzzProperty, fuzzTargets } from './targets.js';

const count = Number(process.argv[2] ?? 1_000_000);
const only = process.argv[3];
const seed = Number(process.env['TCPCOPY_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
console.log(`fuzz: ${count.toLocaleString('en')} inputs per target, seed ${seed}`);
let failed = 0;
for (const t of fuzzTargets()) {
  if (only !== undefined && !t.name.includes(only)) {
    t.close?.();
    continue;
  }
  let typed = 0;
  const counting = { ...t, typed: (e: unknown) => (t.typed(e) ? (typed++, true) : false) };
  const start = performance.now();
  const r = fc.check(fuzzProperty(counting), { seed, numRuns: count, endOnFailure: true });
  const s = (performance.now() - start) / 1000;
  t.close?.();
  const line = `${t.name.padEnd(32)} ${r.numRuns.toLocaleString('en').padStart(10)} inputs, ${typed.toLocaleString('en').padStart(10)} typed errors, ${s.toFixed(1).padStart(6)} s, ${Math.round(
    r.numRuns / s,
  )
    .toLocaleString('en')
    .padStart(8)}/s`;
  if (r.failed) {
    failed++;
    console.log(`${line}  FAILED\n${fc.defaultReportMessage(r) ?? ''}`);
  } else console.log(`${line}  ok`);
}
process.exitCode = failed > 0 ? 1 : 0;
