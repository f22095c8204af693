// The README's main command: `tcpcopy demo` builds its namespaces, captures live HTTP traffic,
// decodes it and records it. Checked against nginx's view, tshark's reading of the recording and
// the namespaces left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { runDemo } from '../../src/cli/demo.js';
import { loadCaptureFile } from '../../src/pcap/index.js';

const isRoot = process.getuid?.() === 0;

test('demo captures, decodes and records every packet of its HTTP exchange', { skip: !isRoot && 'needs root' }, async () => {
  const before = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const lines: string[] = [];
  const requests = 4;
  const s = await runDemo({ requests, out: (l) => lines.push(l) });
  try {
    assert.ok(lines.includes(`HTTP: ${requests}/${requests} responses 200`), lines.join('\n'));
    assert.ok(s.packets >= 3 + 2 * requests + 3, `too few packets: ${s.packets}`);
    assert.equal(s.decoded, s.packets, 'every captured packet decodes to TCP');
    assert.equal(s.checksums.bad, 0);
    assert.equal(s.checksums.valid + s.checksums.partial, s.packets);
    assert.equal(s.syns, 1, 'curl reuses one connection');
    assert.equal(s.dropped, 0);
    // Each request is one identical GET; the server's responses are equal too.
    assert.ok(s.requestBytes > 0 && s.requestBytes % requests === 0, `request bytes ${s.requestBytes}`);
    assert.ok(s.responseBytes > 0 && s.responseBytes % requests === 0, `response bytes ${s.responseBytes}`);
    // One printed line per packet, with the lab addresses.
    const packetLines = lines.filter((l) => / 10\.77\.0\.[12]:\d+ > 10\.77\.0\.[12]:\d+ \[/.test(l));
    assert.equal(packetLines.length, s.packets);
    // The recording holds exactly those packets, by our reader and by tshark.
    const file = await loadCaptureFile(s.pcapngPath);
    assert.equal(file.packets.length, s.packets);
    const tshark = execFileSync('tshark', ['-r', s.pcapngPath, '-T', 'fields', '-e', 'tcp.len'], { encoding: 'utf8' });
    const lens = tshark.trim().split('\n').map(Number);
    assert.equal(lens.length, s.packets);
    assert.equal(lens.reduce((a, b) => a + b, 0), s.requestBytes + s.responseBytes);
  } finally {
    rmSync(dirname(s.pcapngPath), { recursive: true, force: true });
  }
  assert.equal(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), before, 'the demo removed its namespaces');
});
