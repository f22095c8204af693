// The non-root `tcpcopy demo`: run as `nobody` (uid 65534, no capabilities; as the
// current user when the tests run without root) from a world-readable copy of the built package with
// its runtime dependencies, bin/ and demo/, it replays demo/demo.pcapng over the socket transport to
// its built-in HTTP server on loopback and prints the report: 8 sessions, 32 requests, all served,
// exit 0. And the shipped capture is the project's own: scripts/make-demo-capture.mjs, run again,
// writes the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { unprivilegedCopy } from '../support/unprivileged.js';
import { loadPackets } from '../support/captured.js';

const isRoot = process.getuid?.() === 0;
/** What scripts/make-demo-capture.mjs puts in the capture. */
const SESSIONS = 8;
const REQUESTS = 32;

function runDemo(): { status: number | null; stdout: string; stderr: string; uid: string } {
  const root = packageRoot();
  if (!isRoot) {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'tcpcopy'), 'demo'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, uid: String(process.getuid?.()) };
  }
  // test/support/unprivileged.ts's copy lacks node_modules, bin/ and demo/: add them.
  const copy = unprivilegedCopy({ cli: true, extra: ['demo'] });
  try {
    execFileSync('chmod', ['-R', 'a+rX', copy.root]);
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        'sh',
        '-c',
        'id -u >&2; exec "$0" bin/tcpcopy demo',
        process.execPath,
      ],
      { encoding: 'utf8', cwd: copy.root, timeout: 60_000 },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, uid: r.stderr.split('\n')[0] ?? '' };
  } finally {
    copy.cleanup();
  }
}

test(
  'tcpcopy demo without root replays the shipped capture over sockets to its own HTTP server',
  { timeout: 90_000 },
  (t) => {
    const r = runDemo();
    t.diagnostic(r.stdout);
    assert.equal(r.status, 0, `demo exit status\n${r.stdout}\n${r.stderr}`);
    if (isRoot) assert.equal(r.uid, '65534', 'ran as nobody');
    assert.match(r.stdout, /not root: no network namespaces or raw sockets/);
    assert.match(r.stdout, /^capture: 144 packets read, 144 of the service \(96 client, 48 server\)/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^sessions: ${SESSIONS} replayable \\(0 without SYN\\), skipped 0 without data, 0 aborted; ${SESSIONS} ok, 0 failed$`,
        'm',
      ),
    );
    assert.match(r.stdout, new RegExp(`^sent: ${REQUESTS} requests, `, 'm'));
    assert.match(r.stdout, /^failures: 0 refused, 0 reset, 0 timeout, 0 closed by target, 0 other$/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^requests: replayed ${REQUESTS}, served by the target ${REQUESTS}; sessions ${SESSIONS}/${SESSIONS} ok$`,
        'm',
      ),
    );
    assert.doesNotMatch(r.stdout, /FAILED/);
  },
);

test('demo/demo.pcapng is what scripts/make-demo-capture.mjs writes', async () => {
  const root = packageRoot();
  const dir = mkdtempSync(join(tmpdir(), 'demo-capture-'));
  try {
    const file = join(dir, 'demo.pcapng');
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'make-demo-capture.mjs'), file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.match(out, new RegExp(`144 packets, ${SESSIONS} sessions, ${REQUESTS} HTTP requests`));
    assert.deepEqual(
      readFileSync(file),
      readFileSync(join(root, 'demo', 'demo.pcapng')),
      'regenerated capture = shipped capture',
    );
    const cap = await loadPackets(file);
    assert.equal(cap.packets.length, 144);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
