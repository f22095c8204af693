// The README's main command: `tcpcopy demo` builds the replication lab, runs its three loads and
// prints each load's online and replicated request counts. Checked: the figures it prints are the
// ones it returns, every load is replicated (ratio ≥ 0.999, never more than online), nothing leaked
// to the client, both tools exited 0, and the namespaces are gone afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { runDemo } from '../../src/demo/index.js';

const isRoot = process.getuid?.() === 0;

test(
  'demo replicates its three loads and reports the ratio',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async () => {
    const before = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    const lines: string[] = [];
    const s = await runDemo({ requests: 30, abRequests: 2000, out: (l) => lines.push(l) });
    const text = lines.join('\n');
    assert.equal(s.loads.length, 3, text);
    assert.deepEqual(
      s.loads.map((l) => l.online),
      [30, 2000, 2000],
      text,
    );
    for (const l of s.loads) {
      assert.ok(l.ratio >= 0.999 && l.replicated <= l.online, `${l.name}: ${l.replicated}/${l.online}\n${text}`);
      assert.ok(
        lines.includes(
          `${l.name}: online ${l.online} requests (${Math.round(l.onlineRps)} req/s), target ${l.replicated}, ratio ${l.ratio.toFixed(4)}`,
        ),
        text,
      );
    }
    assert.equal(s.leaked, 0);
    assert.equal(s.tcpcopyExit, 0, text);
    assert.equal(s.interceptExit, 0, text);
    assert.equal(s.ok, true);
    assert.match(text, /^ {2}tcpcopy summary after [\d.]+ s:$/m);
    assert.match(text, /^ {2}intercept summary after [\d.]+ s:$/m);
    const total = s.loads.reduce((a, l) => a + l.replicated, 0);
    assert.ok(lines.includes(`replication ratio: ${total}/4030 = ${(total / 4030).toFixed(4)}`), text);
    assert.equal(
      execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }),
      before,
      'the demo removed its namespaces',
    );
  },
);
