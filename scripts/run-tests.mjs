#!/usr/bin/env node
// Runs the compiled node:test files under dist/test. `--unit` keeps only tests that need no root
// and no namespaces (files not named `*.e2e.test.js` and not under a `live/` folder), for a second Node version.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const node = process.env.TEST_NODE ?? process.execPath;
const root = 'dist/test';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
// `--soak` runs only the soak tests (`*.soak.test.js`, `npm run test:soak`); every other run leaves them out.
const soak = args.includes('--soak');
let files = walk(root)
  .sort()
  .filter((f) => f.endsWith('.soak.test.js') === soak);
if (unitOnly) files = files.filter((f) => !/\/live\//.test(f) && !f.includes('.e2e.'));
const filter = args.filter((a) => !a.startsWith('--'));
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
// On CI a skipped test is a failure: every tool a test needs is installed by scripts/setup.sh, so a
// skip there means a missing set-up step, not an optional feature. The one exception is a skip whose
// reason starts with "outside this workplace:" — something no set-up step can bring (a container
// registry): those are listed, and only those may pass.
const failOnSkip = process.env.CI === 'true' || process.env.TCPCOPY_FAIL_ON_SKIP === '1';
const r = spawnSync(node, ['--test', '--test-concurrency=1', ...files], {
  stdio: ['inherit', failOnSkip ? 'pipe' : 'inherit', 'inherit'],
  maxBuffer: 1 << 30,
});
if (failOnSkip) {
  const out = r.stdout.toString();
  process.stdout.write(out);
  const m = /^(?:#|\u2139) skipped (\d+)/m.exec(out);
  const outside = [...out.matchAll(/^\s*ok \d+ - (.*) # SKIP outside this workplace: (.*)$/gm)];
  if (r.status === 0 && m && Number(m[1]) > outside.length) {
    console.error(
      `run-tests: ${Number(m[1]) - outside.length} test(s) skipped on CI; a skip means a missing set-up step`,
    );
    process.exit(1);
  }
  for (const [, name, why] of outside) console.error(`run-tests: skipped, outside this workplace: ${name} (${why})`);
  // CI keeps only the tail of the output: name every failed test there, with its error line.
  const lines = out.split('\n');
  const failed = [];
  lines.forEach((line, i) => {
    const f = /^(\s*)not ok \d+ - (.*)$/.exec(line);
    if (!f || / # TODO/.test(f[2])) return;
    const at = lines.slice(i + 1, i + 12).findIndex((l) => /^\s*error: /.test(l));
    if (at < 0) return void failed.push(`${f[1]}${f[2]}`);
    // A multi-line error (`error: |-`) continues on the more indented lines that follow: keep 8.
    const first = lines[i + 1 + at];
    const indent = first.length - first.trimStart().length;
    const more = [];
    for (const l of lines.slice(i + 2 + at, i + 2 + at + 8)) {
      if (l.length - l.trimStart().length <= indent) break;
      more.push(`${f[1]}    ${l.trim().slice(0, 300)}`);
    }
    failed.push([`${f[1]}${f[2]}`, `${f[1]}  ${first.trim()}`, ...more].join('\n'));
  });
  if (failed.length > 0) console.log(`\nrun-tests: ${failed.length} failed (suites included):\n${failed.join('\n')}`);
}
process.exit(r.status ?? 1);
