// Tcpcopy --record beside the live replication in the 4-host replication lab:
// `ab -k -c20 -n5000` against nginx on onl:80 is replicated to tgt:8080 and, by a second capture of
// both directions, recorded to a pcapng file. Checked: the replication is not disturbed (the target
// logs every online request), the recording holds both directions and exactly the HTTP requests
// nginx logged (none of the copies sent to the target), and tcpcopy's final output has both
// summaries. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplicationLab } from '../lab/index.js';
import { countHttpRequests, summarize } from './streams.js';
import { loadPackets } from '../support/captured.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 5000;

test(
  '--record beside the replication: ab -k is replicated and recorded',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tcpcopy-record-'));
    const file = join(dir, 'beside.pcapng');
    const rl = await ReplicationLab.create({ service: 'nginx', tcpcopyArgs: ['--record', file] });
    try {
      const { cli, onl } = rl;
      assert.match(rl.tcpcopyLog(), /recording on eth0 with filter "tcp and port 80" to /);
      const ab = await cli.ab({
        url: `http://${onl.ip}/`,
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: true,
        timeLimitS: 60,
      });
      assert.equal(ab.complete, REQUESTS);
      const online = (await rl.online.logLines()).length;
      assert.equal(online, REQUESTS);
      const target = (await rl.waitForTarget(REQUESTS, 20_000)).length;
      await new Promise((r) => setTimeout(r, 500));
      const { tcpcopy } = await rl.stop();
      assert.ok(tcpcopy);
      assert.equal(tcpcopy.exitCode, 0, tcpcopy.log);
      assert.equal(target, REQUESTS, `target logged ${target}/${REQUESTS}\n${rl.diagnostics()}`);
      assert.ok(tcpcopy.summary, 'tcpcopy summary');
      assert.match(
        tcpcopy.log,
        /record summary after [\d.]+ s: packets \d+, .*files 1, .*capture dropped 0, write failed 0/,
      );

      const { packets } = await loadPackets(file);
      const s = summarize(packets, [80]);
      t.diagnostic(
        `recorded ${packets.length} packets, ${(await stat(file)).size} bytes; segments ${[...s.segments].map(([k, v]) => `${k}=${v}`).join(' ')}`,
      );
      assert.equal(s.other, 0, 'nothing but port 80 (no copies to tgt:8080)');
      assert.equal(s.segments.get('80 c2s'), REQUESTS, 'one request segment per request (ab -k)');
      assert.ok((s.segments.get('80 s2c') ?? 0) >= REQUESTS, 'responses recorded');
      let http = 0;
      for (const stream of s.clientStreams.values()) http += countHttpRequests(stream);
      assert.equal(http, online, 'HTTP requests in the recording = nginx access log lines');
      const sum = /record summary after [\d.]+ s: packets (\d+)/.exec(tcpcopy.log);
      assert.equal(Number(sum?.[1]), packets.length, 'summary packets = packets in the file');
    } finally {
      await rl.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
