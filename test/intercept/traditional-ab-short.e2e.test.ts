// Traditional mode (intercept --nfqueue on tgt, no assistant):
// `ab -c20 -n20000` short connections against onl:80 replicated to tgt:8080 ≥ 0.999, no frame from
// tgt at cli, the pass-listed adm host served by tgt:8080 directly during the load, no iptables
// rule left after intercept stops. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraditionalLab } from '../lab/index.js';
import { admCurls, checkTraditional } from './traditional-check.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 20_000;
const ADM_REQUESTS = 20;

test(
  'traditional mode: ab -c20 -n20000 short connections are replicated (ratio >= 0.999), adm passes',
  { skip: !isRoot && 'needs root', timeout: 150_000 },
  async (t) => {
    const tl = await TraditionalLab.create();
    try {
      const [r] = await Promise.all([
        tl.cli.ab({
          url: `http://${tl.onl.ip}/`,
          concurrency: 20,
          requests: REQUESTS,
          keepAlive: false,
          timeLimitS: 90,
        }),
        admCurls(tl, ADM_REQUESTS),
      ]);
      assert.equal(r.complete, REQUESTS);
      assert.equal(r.failed, 0);
      assert.equal(r.non2xx, 0);
      assert.equal((await tl.online.logLines()).length, REQUESTS);
      const f = await checkTraditional(t, tl, 'traditional ab -c20 short', ADM_REQUESTS);
      const syns = f.tcpcopy.get('syn cnt');
      assert.ok(syns >= REQUESTS && syns <= REQUESTS + 20, `syn cnt ${syns}`);
      assert.equal(f.tcpcopy.get('conns'), syns);
    } finally {
      await tl.destroy();
    }
  },
);
