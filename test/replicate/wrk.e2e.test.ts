// `wrk -t1 -c10 -d5s` (10 keep-alive connections, as fast as they go) against
// onl:80 is replicated to tgt:8080 — target/online log lines ≥ 0.999, the real client address on
// the target, no frame from tgt at cli. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab } from '../lab/index.js';
import { checkHttpReplication } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const CONNECTIONS = 10;

test(
  'wrk -t1 -c10 -d5s is replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx' });
    try {
      const r = await rl.cli.wrk({ url: `http://${rl.onl.ip}/`, threads: 1, connections: CONNECTIONS, durationS: 5 });
      assert.equal(r.socketErrors, 0);
      assert.equal(r.non2xx, 0);
      assert.ok(r.requests > 1000, `wrk completed only ${r.requests} requests`);
      // nginx logs every request wrk completed, plus at most one in flight per connection at the stop.
      const online = (await rl.online.logLines()).length;
      assert.ok(online >= r.requests && online <= r.requests + CONNECTIONS, `online log ${online}, wrk ${r.requests}`);
      const f = await checkHttpReplication(t, rl, 'wrk -t1 -c10 -d5s');
      // wrk's connections plus the one it opens first to check the address (no request on it).
      assert.equal(f.tcpcopy.get('syn cnt'), CONNECTIONS + 1);
      assert.equal(f.tcpcopy.get('conns'), CONNECTIONS + 1);
    } finally {
      await rl.destroy();
    }
  },
);
