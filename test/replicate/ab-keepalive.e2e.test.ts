// `ab -k -c20 -n20000` (20 keep-alive connections) against onl:80 is replicated
// to tgt:8080 — target/online log lines ≥ 0.999, the real client address on the target, no frame
// from tgt at cli. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab } from '../lab/index.js';
import { checkHttpReplication } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 20_000;

test(
  'ab -k -c20 -n20000 keep-alive requests are replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    try {
      const r = await rl.cli.ab({
        url: `http://${rl.onl.ip}/`,
        concurrency: 20,
        requests: REQUESTS,
        keepAlive: true,
        timeLimitS: 60,
      });
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal(r.keepAliveRequests, REQUESTS);
      assert.equal((await rl.online.logLines()).length, REQUESTS);
      const f = await checkHttpReplication(t, rl, 'ab -k -c20');
      // ab opened exactly its 20 connections, each copied from its SYN.
      assert.equal(f.tcpcopy.get('syn cnt'), 20);
      assert.equal(f.tcpcopy.get('conns'), 20);
    } finally {
      await rl.destroy();
    }
  },
);
