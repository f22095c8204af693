// Traditional mode: `wrk -t1 -c10 -d5s` against onl:80 replicated to
// tgt:8080 ≥ 0.999 with intercept --nfqueue on tgt; adm (pass-listed) served during the load; no
// frame from tgt at cli; no rule left. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraditionalLab } from '../lab/index.js';
import { admCurls, checkTraditional } from './traditional-check.js';

const isRoot = process.getuid?.() === 0;
const CONNECTIONS = 10;
const ADM_REQUESTS = 20;

test(
  'traditional mode: wrk -t1 -c10 -d5s is replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 150_000 },
  async (t) => {
    const tl = await TraditionalLab.create();
    try {
      const [r] = await Promise.all([
        tl.cli.wrk({ url: `http://${tl.onl.ip}/`, threads: 1, connections: CONNECTIONS, durationS: 5 }),
        admCurls(tl, ADM_REQUESTS),
      ]);
      assert.equal(r.socketErrors, 0);
      assert.equal(r.non2xx, 0);
      assert.ok(r.requests > 1000, `wrk completed only ${r.requests} requests`);
      const online = (await tl.online.logLines()).length;
      assert.ok(online >= r.requests && online <= r.requests + CONNECTIONS, `online log ${online}, wrk ${r.requests}`);
      const f = await checkTraditional(t, tl, 'traditional wrk -t1 -c10 -d5s', ADM_REQUESTS);
      assert.equal(f.tcpcopy.get('syn cnt'), CONNECTIONS + 1);
      assert.equal(f.tcpcopy.get('conns'), CONNECTIONS + 1);
    } finally {
      await tl.destroy();
    }
  },
);
