// The man pages, made from the option tables: `man -l` renders them without a warning, and they
// list every option -h lists, each help group, the examples and the exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolManPages } from '../../src/cli/man.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const hasMan = spawnSync('man', ['--version'], { encoding: 'utf8' }).status === 0;

test(
  'man pages: rendered by man -l without warnings, with every option of -h, the groups, examples and exit codes',
  { skip: !hasMan && 'man is not installed' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'man-'));
    try {
      for (const page of await toolManPages()) {
        const file = join(dir, page.name);
        writeFileSync(file, page.text);
        const r = spawnSync('man', ['--warnings', '-l', file], {
          encoding: 'utf8',
          env: { ...process.env, MANWIDTH: '200', MAN_KEEP_FORMATTING: '', LC_ALL: 'C.UTF-8' },
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '', `${page.name}: ${r.stderr}`);
        const text = r.stdout; // to a pipe, man formats without overstrike
        const tool = page.name.replace(/\.1$/, '');
        const help = spawnSync(process.execPath, [join(root, 'bin', tool), '-h'], { encoding: 'utf8' }).stdout;
        const longs = [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]!);
        assert.ok(longs.length > 10, `${tool} -h lists its options`);
        for (const flag of longs) assert.match(text, new RegExp(`(^|[ ,])${flag}\\b`, 'm'), `${page.name} has ${flag}`);
        for (const heading of [...help.matchAll(/^(\S[^\n]*):$/gm)]
          .map((m) => m[1]!)
          .filter((h) => !['Usage', 'Examples', 'Commands'].includes(h))) {
          assert.ok(text.includes(heading), `${page.name} has the group ${heading}`);
        }
        assert.match(text, /EXIT STATUS/);
        for (const code of ['0', '1', '2', '3', '4'])
          assert.match(text, new RegExp(`^ +${code} +\\S`, 'm'), `exit code ${code}`);
        assert.match(text, new RegExp(`EXAMPLES[\\s\\S]*${tool} `));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
