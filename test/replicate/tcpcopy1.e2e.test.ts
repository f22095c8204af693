// End to end: tcpcopy --tcpcopy1 ↔ intercept --tcpcopy1 (the C TCPCopy 1.x channel
// format: version record, 14-byte CLIENT_ADD records, combined frames of 64-byte server records, no
// authentication) in the 4-host replication lab. intercept listens on ast's address only (-b) and
// accepts channel connections from onl only (--tcpcopy1-allow). 50 curl requests and
// `ab -k -c20 -n20000` are replicated with ratio ≥ 0.999 (shared check in http-replication.ts). Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab } from '../lab/index.js';
import type { ReplicationLabOptions } from '../lab/index.js';
import { checkHttpReplication } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
/** The lab's fixed addresses: onl is host 2, ast host 4 (test/lab/lab.ts: host i gets 10.77.0.(i+1)). */
const ONL_IP = '10.77.0.2';
const AST_IP = '10.77.0.4';

const COMPAT: ReplicationLabOptions<'nginx'> = {
  service: 'nginx',
  tcpcopyArgs: ['--tcpcopy1'],
  interceptArgs: ['--tcpcopy1', '-b', AST_IP, '--tcpcopy1-allow', ONL_IP],
};

function checkCompatLogs(tcpcopyLog: string, interceptLog: string): void {
  assert.match(
    interceptLog,
    /TCPCopy 1\.x compatibility: the channel on 10\.77\.0\.4:36524 is NOT authenticated; peers accepted from 10\.77\.0\.2 only/,
  );
  assert.match(interceptLog, /peer 10\.77\.0\.2:\d+ connected \(TCPCopy channel version 6, unauthenticated\)/);
  assert.match(tcpcopyLog, /TCPCopy 1\.x compatibility: the channel to intercept is NOT authenticated/);
  assert.match(tcpcopyLog, /intercept 10\.77\.0\.4:36524#[01] connected \(TCPCopy 1\.x channel\)/);
}

test(
  'tcpcopy --tcpcopy1 ↔ intercept --tcpcopy1: 50 curl requests replicated',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create(COMPAT);
    try {
      assert.equal(rl.onl.ip, ONL_IP);
      assert.equal(rl.ast.ip, AST_IP);
      const codes = await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 30 });
      for (let i = 0; i < 20; i++) codes.push(...(await rl.cli.curl(`http://${rl.onl.ip}/`, { count: 1 })));
      assert.equal(codes.length, 50);
      assert.ok(
        codes.every((c) => c === 200),
        `online statuses: ${codes.join(',')}`,
      );
      assert.equal((await rl.online.logLines()).length, 50);
      const f = await checkHttpReplication(t, rl, 'curl x50 over the TCPCopy 1.x channel');
      assert.equal(f.target, 50);
      assert.equal(f.tcpcopy.get('conns'), 21);
      const { tcpcopy, intercept } = await rl.stop();
      checkCompatLogs(tcpcopy?.log ?? '', intercept.log);
      const i = intercept.summary;
      assert.ok(i, intercept.log);
      // Every reply was routed over the compat channel (cache hit) or parked first (missed).
      assert.ok(i.get('cache hit') > 0, intercept.log);
    } finally {
      await rl.destroy();
    }
  },
);

test(
  'tcpcopy --tcpcopy1 ↔ intercept --tcpcopy1: ab -k -c20 -n20000 replicated (ratio >= 0.999)',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const REQUESTS = 20_000;
    const rl = await ReplicationLab.create(COMPAT);
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
      assert.equal((await rl.online.logLines()).length, REQUESTS);
      const f = await checkHttpReplication(t, rl, 'ab -k -c20 over the TCPCopy 1.x channel');
      assert.equal(f.tcpcopy.get('conns'), 20);
      const { tcpcopy, intercept } = await rl.stop();
      checkCompatLogs(tcpcopy?.log ?? '', intercept.log);
    } finally {
      await rl.destroy();
    }
  },
);
