// Benchmark dispatcher: `npm run bench [-- name ...]` runs the named benchmarks (all by default)
// and prints their figures. Benchmarks never pass or fail; they measure.
interface BenchModule {
  run(): Promise<void>;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  codec: () => import('./codec.js'),
  pcap: () => import('./pcap.js'),
  capture: () => import('./capture.js'),
  send: () => import('./send.js'),
  replicate: () => import('./replicate.js'),
  offline: () => import('./offline.js'),
  engine: () => import('./engine.js'),
  backlog: () => import('./backlog.js'),
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = asked.length > 0 ? asked : Object.keys(BENCHES);
for (const name of names) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`bench: unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})`);
    process.exit(2);
  }
  console.log(`\n=== bench ${name}`);
  const mod = await load();
  await mod.run();
}
