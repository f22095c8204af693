// Traditional mode: `ab -k -c20 -n20000` keep-alive against onl:80
// replicated to tgt:8080 ≥ 0.999 with intercept --nfqueue on tgt; adm (pass-listed) served during
// the load; no frame from tgt at cli; no rule left. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraditionalLab } from '../lab/index.js';
import { admCurls, checkTraditional } from './traditional-check.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 20_000;
const ADM_REQUESTS = 20;

test(
  'traditional mode: ab -k -c20 -n20000 keep-alive requests are replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 150_000 },
  async (t) => {
    const tl = await TraditionalLab.create();
    try {
      const [r] = await Promise.all([
        tl.cli.ab({
          url: `http://${tl.onl.ip}/`,
          concurrency: 20,
          requests: REQUESTS,
          keepAlive: true,
          timeLimitS: 90,
        }),
        admCurls(tl, ADM_REQUESTS),
      ]);
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal(r.keepAliveRequests, REQUESTS);
      assert.equal((await tl.online.logLines()).length, REQUESTS);
      const f = await checkTraditional(t, tl, 'traditional ab -k -c20', ADM_REQUESTS);
      assert.equal(f.tcpcopy.get('syn cnt'), 20);
      assert.equal(f.tcpcopy.get('conns'), 20);
    } finally {
      await tl.destroy();
    }
  },
);
