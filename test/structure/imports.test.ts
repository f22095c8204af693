// The tree reads as the data path: every import in src/ (static, type-only and dynamic) points to a
// folder of a lower layer, so there is no cycle between folders, src/cli/ sits on top where nothing
// imports it, and shipped code never reaches into the tests, the lab or the benchmarks. The layers
// are the picture the README's layout section draws; a new folder has to be placed in it here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'));
const SRC = join(ROOT, 'src');

/** Lower numbers are lower layers; an import must go to a strictly lower layer or stay in its folder. */
export const LAYERS: Readonly<Record<string, number>> = {
  paths: 0,
  version: 0,
  'exit-codes': 0,
  packet: 0,
  mysql: 0,
  pcap: 1,
  io: 1,
  log: 1,
  capture: 2,
  send: 2,
  session: 2,
  channel: 2,
  process: 2,
  stats: 3,
  'mysql-replay': 3,
  compare: 3,
  tcpcopy: 4,
  intercept: 4,
  record: 4,
  metrics: 4,
  dashboard: 4,
  replay: 5,
  demo: 6,
  cli: 7,
};

interface Edge {
  readonly from: string;
  readonly to: string;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The top-level folder (or root file, without extension) a path under src/ belongs to. */
function unitOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  return parts.length === 1 ? parts[0]!.replace(/\.[jt]s$/, '') : parts[0]!;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/gm;

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) continue;
      out.push({ from: relative(ROOT, file), to: relative(ROOT, normalize(join(dirname(file), spec))) });
    }
  }
  return out;
}

test('the scan sees the imports of src/ (static, type-only and dynamic)', () => {
  const all = edges();
  assert.ok(all.length > 300, `only ${all.length} imports found`);
  assert.ok(
    all.some((e) => e.from === 'src/cli/tcpcopy.ts' && e.to === 'src/tcpcopy/index.js'),
    'the CLI loads the replicator',
  );
});

test('every folder of src/ has a layer', () => {
  const units = new Set(sources(SRC).map(unitOf));
  const missing = [...units].filter((u) => LAYERS[u] === undefined);
  assert.deepEqual(missing, [], 'add these to LAYERS (and to the README layout section)');
});

test('imports point down: no folder imports its own layer or one above it', () => {
  const bad: string[] = [];
  for (const e of edges()) {
    if (!e.to.startsWith('src/')) continue;
    const a = unitOf(join(ROOT, e.from));
    const b = unitOf(join(ROOT, e.to));
    if (a === b) continue;
    if ((LAYERS[b] ?? Infinity) >= (LAYERS[a] ?? -Infinity))
      bad.push(`${e.from} -> ${e.to} (${a} ${LAYERS[a]} -> ${b} ${LAYERS[b]})`);
  }
  assert.deepEqual(bad, []);
});

test('nothing outside src/cli/ imports src/cli/, and src/ imports nothing outside src/', () => {
  const bad = edges().filter(
    (e) => (e.to.startsWith('src/cli/') && !e.from.startsWith('src/cli/')) || !e.to.startsWith('src/'),
  );
  assert.deepEqual(
    bad.map((e) => `${e.from} -> ${e.to}`),
    [],
  );
});
