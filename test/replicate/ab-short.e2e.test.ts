// `ab -c20 -n20000` over short connections (one request each) against onl:80
// is replicated to tgt:8080 — target/online log lines ≥ 0.999, the real client address on the
// target, no frame from tgt at cli. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab } from '../lab/index.js';
import { checkHttpReplication } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 20_000;

test(
  'ab -c20 -n20000 short connections are replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    try {
      const r = await rl.cli.ab({
        url: `http://${rl.onl.ip}/`,
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: false,
        timeLimitS: 60,
      });
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal((await rl.online.logLines()).length, REQUESTS);
      const f = await checkHttpReplication(t, rl, 'ab -c20 short');
      // One client connection per request, each seen from its SYN (ab opens up to one more per
      // concurrency slot near the end and closes it unused), each established with the target.
      const syns = f.tcpcopy.get('syn cnt');
      assert.ok(syns >= REQUESTS && syns <= REQUESTS + 20, `syn cnt ${syns}`);
      assert.equal(f.tcpcopy.get('conns'), syns);
      assert.equal(f.tcpcopy.get('for no syn'), 0);
    } finally {
      await rl.destroy();
    }
  },
);
