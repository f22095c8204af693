// Comments and documents name files of the tree by path (`src/session/engine.ts`, `test/lab/`); every
// such path must exist, so a move that forgets its mentions fails here instead of misleading a reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'));

/** Paths that name files of other projects, not of this tree. */
const FOREIGN = new Set([
  // The C TCPCopy's channel header, which the compatibility codec follows.
  'src/communication/tc_msg.h',
]);

const MENTION = /(?<![\w./-])((?:src|test|bench|scripts|native|demo|contrib|man)\/[\w./-]*\w)/g;

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', 'src', 'test', 'bench', 'scripts', 'native', 'contrib', '*.md'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\n').filter((f) => /\.(ts|mjs|js|c|h|md|sh|service)$/.test(f));
}

function exists(path: string, from: string): boolean {
  const bare = path.replace(/\/$/, '');
  const candidates = [join(ROOT, bare), join(ROOT, dirname(from), bare)];
  // Compiled names in comments (`dist/...js`, `./x.js`) stand for their TypeScript sources.
  return candidates.some((c) => existsSync(c) || existsSync(c.replace(/\.js$/, '.ts')));
}

test('every path a comment or document names exists in the tree', () => {
  const files = trackedFiles();
  assert.ok(files.length > 200, `only ${files.length} files scanned (not a git checkout?)`);
  const missing: string[] = [];
  for (const f of files) {
    if (!existsSync(join(ROOT, f))) continue;
    const text = readFileSync(join(ROOT, f), 'utf8');
    for (const m of text.matchAll(MENTION)) {
      const p = m[1]!;
      if (!FOREIGN.has(p) && !exists(p, f)) missing.push(`${f}: ${p}`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});
