// Corrupt capture files, and files cut short with --strict-file, through bin/tcpcopy --offline: one
// line naming the file and the byte offset, exit 2 (bad input), never a stack trace. Without
// --strict-file a file cut short is replayed up to the cut, with one warning naming the offset. The pre-scan reads
// the whole file before
// anything is opened or sent, so these need neither root nor an intercept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientSession, writeCapture } from './synth.js';
import { countingHttpServer, runAsync } from '../support/processes.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const T0 = 1_700_000_000_000_000_000n;

function tcpcopy(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [`${root}bin/tcpcopy`, '-x', '80-10.9.9.3:8080', '-s', '10.9.9.4', '--secret', 's', ...args],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLine(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, 'bad input');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
}

test('bin/tcpcopy --offline: truncated, corrupt, non-capture and missing files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'offline-bad-'));
  try {
    const good = join(dir, 'good.pcapng');
    await writeCapture(
      good,
      clientSession({ client: '10.9.9.1', clientPort: 40000, server: '10.9.9.2', serverPort: 80, startNs: T0 }),
    );
    const bytes = readFileSync(good);

    // Cut inside the last Enhanced Packet Block: the offset is that block's start.
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    const lastBlockLen = bytes.readUInt32LE(bytes.length - 4);
    const r1 = tcpcopy(['--offline', cut, '--strict-file']);
    assertOneLine(
      r1,
      new RegExp(
        `^tcpcopy: error: ${cut.replace(/[.]/g, '\\.')}: .*truncated.* at byte offset ${bytes.length - lastBlockLen}\\b`,
      ),
    );

    // A block length that disagrees with its trailer.
    const bad = Buffer.from(bytes);
    const firstEpb = bytes.length - lastBlockLen; // corrupt the last EPB's trailer
    bad.writeUInt32LE(lastBlockLen + 4, bytes.length - 4);
    const corrupt = join(dir, 'corrupt.pcapng');
    writeFileSync(corrupt, bad);
    const r2 = tcpcopy(['-i', corrupt]);
    assertOneLine(
      r2,
      new RegExp(`^tcpcopy: error: ${corrupt.replace(/[.]/g, '\\.')}: .* at byte offset ${firstEpb}\\b`),
    );

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a capture file at all\n');
    assertOneLine(
      tcpcopy(['--offline', text]),
      new RegExp(`^tcpcopy: error: ${text.replace(/[.]/g, '\\.')}: .* at byte offset 0\\b`),
    );

    const missing = join(dir, 'missing.pcap');
    assertOneLine(
      tcpcopy(['--offline', missing]),
      new RegExp(`^tcpcopy: error: ${missing.replace(/[.]/g, '\\.')}: cannot read the capture file \\(ENOENT`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/tcpcopy --offline: a file cut short (as a killed tcpdump leaves it) is replayed up to the cut, with one warning naming the offset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'offline-cut-'));
  const srv = await countingHttpServer();
  try {
    // Two sessions; the cut falls inside the second one's last record (its FIN): both requests stand.
    const file = join(dir, 'two.pcapng');
    await writeCapture(
      file,
      [0, 1].flatMap((i) =>
        clientSession({
          client: '10.9.9.1',
          clientPort: 40000 + i,
          server: '10.9.9.2',
          serverPort: 80,
          startNs: T0 + BigInt(i) * 1_000_000n,
        }),
      ),
    );
    const bytes = readFileSync(file);
    const lastBlockLen = bytes.readUInt32LE(bytes.length - 4);
    const cut = join(dir, 'cut.pcapng');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
    const r = await runAsync(process.execPath, [
      `${root}bin/tcpcopy`,
      '--offline',
      cut,
      '--transport',
      'socket',
      '--top-speed',
      '-x',
      `80-127.0.0.1:${srv.port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^tcpcopy: warning: ${cut.replace(/[.]/g, '\\.')}: .*truncated.* at byte offset ${bytes.length - lastBlockLen}\\b.*replaying the packets before the cut`,
      ),
    );
    assert.match(r.stdout, /capture: 7 packets read/, 'the 8th packet (the cut one) is not replayed');
    assert.equal(srv.requests(), 2, 'both requests reached the target');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
