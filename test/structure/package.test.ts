// What `npm pack` would ship: the built tools, the addon's sources and the man pages — never the tests,
// the namespace lab, the benchmarks, source maps or type declarations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'));

interface PackEntry {
  readonly files: readonly { readonly path: string }[];
}

test('npm pack --dry-run lists no test, lab or benchmark file', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const [entry] = JSON.parse(out) as PackEntry[];
  assert.ok(entry !== undefined);
  const own = entry.files.map((f) => f.path).filter((p) => !p.startsWith('node_modules/'));
  assert.ok(own.includes('dist/src/cli/tcpcopy.js'), 'the tool itself is packed (is dist/ built?)');
  assert.ok(own.includes('native/src/addon.c'));
  const stray = own.filter(
    (p) => /^(dist\/)?(test|bench)\//.test(p) || p.includes('/lab/') || p.endsWith('.map') || p.endsWith('.d.ts'),
  );
  assert.deepEqual(stray, []);
});
