// Mid-stream join. Keep-alive connections opened (and used) before tcpcopy
// starts are replicated once it runs: tcpcopy never sees their SYN, synthesizes one for each
// ("for no syn"), and every request sent on them afterwards reaches the target with the real
// client address; no frame from tgt reaches cli. Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicationLab, watchProcess } from '../lab/index.js';
import { waitForCatchUp, tailFrom } from './http-replication.js';

const isRoot = process.getuid?.() === 0;
const LANES = 8;
const BEFORE = 3;
const AFTER = 25;

/**
 * A client run in cli: LANES keep-alive connections (one agent with one socket each), BEFORE
 * sequential requests on each, then "ready <ports>"; on "go" from stdin, AFTER more requests on each
 * and "done <statuses> <ports>". Bounded: it exits by itself after 60 s.
 */
const CLIENT = `
const http = require('node:http');
const [url, lanes, before, after] = process.argv.slice(1);
setTimeout(() => { console.log('timeout'); process.exit(2); }, 60000).unref();
const agents = Array.from({ length: Number(lanes) }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
const get = (agent) => new Promise((resolve, reject) => {
  http.get(url, { agent }, (res) => { const port = res.socket.localPort; res.resume(); res.on('end', () => resolve([res.statusCode, port])); }).on('error', reject);
});
const run = async (n) => Promise.all(agents.map(async (a) => { const out = []; for (let i = 0; i < n; i++) out.push(await get(a)); return out; }));
const ports = (r) => [...new Set(r.flat().map((x) => x[1]))].sort().join(',');
(async () => {
  const first = await run(Number(before));
  console.log('ready ' + ports(first));
  process.stdin.once('data', async () => {
    const second = await run(Number(after));
    const codes = second.flat().map((x) => x[0]);
    console.log('done ' + codes.filter((c) => c === 200).length + ' ' + ports(second));
    process.exit(0);
  });
})().catch((e) => { console.log('error ' + e.message); process.exit(1); });
`;

test(
  'keep-alive connections opened before tcpcopy starts are joined mid-stream',
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false });
    try {
      const client = rl.cli.spawn(
        process.execPath,
        ['-e', CLIENT, `http://${rl.onl.ip}/`, String(LANES), String(BEFORE), String(AFTER)],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const cw = watchProcess(client);
      await cw.waitFor(/^ready (\S+)$/m, 20_000);
      const readyPorts = /^ready (\S+)$/m.exec(cw.text())?.[1] ?? '';
      assert.equal(readyPorts.split(',').length, LANES, cw.text());
      assert.equal((await rl.online.logLines()).length, LANES * BEFORE);

      await rl.startTcpcopy();
      client.stdin?.write('go\n');
      await cw.waitFor(/^done \d+ \S+$/m, 30_000);
      const done = /^done (\d+) (\S+)$/m.exec(cw.text());
      // It exits by itself right after "done" (and within 60 s in any case).
      assert.equal(await cw.exited, 0, cw.text());
      assert.equal(Number(done?.[1]), LANES * AFTER, cw.text());
      // The second round used the same connections: no new handshake anywhere.
      assert.equal(done?.[2], readyPorts);
      assert.equal((await rl.online.logLines()).length, LANES * (BEFORE + AFTER));

      // Exactly the requests sent after tcpcopy started, on the pre-existing connections.
      const targetLines = await waitForCatchUp(rl, LANES * AFTER);
      const leaked = await rl.leakedFrames();
      const { tcpcopy, intercept } = await rl.stop();
      assert.ok(tcpcopy?.summary, rl.diagnostics());
      const s = tcpcopy.summary;
      t.diagnostic(
        `mid-stream: target ${targetLines.length}/${LANES * AFTER}; for no syn ${s.get('for no syn')} syn cnt ${s.get('syn cnt')} conns ${s.get('conns')} leaked ${leaked}`,
      );
      const summaries = `${tailFrom(tcpcopy.log, 'tcpcopy summary')}\n${tailFrom(intercept.log, 'intercept summary')}`;
      assert.equal(
        targetLines.length,
        LANES * AFTER,
        `target saw ${targetLines.length}/${LANES * AFTER}\n${summaries}`,
      );
      const fromClient = new RegExp(`^${rl.cli.ip.replace(/\./g, '\\.')} (\\d+) "GET / HTTP/1\\.1" 200 `);
      const targetPorts = new Set<string>();
      for (const l of targetLines) {
        const m = fromClient.exec(l);
        assert.ok(m, `target line not from ${rl.cli.ip}: ${l}`);
        targetPorts.add(m[1] ?? '');
      }
      assert.equal([...targetPorts].sort().join(','), readyPorts);
      assert.equal(s.get('for no syn'), LANES, summaries);
      assert.equal(s.get('syn cnt'), 0, summaries);
      assert.equal(s.get('conns'), LANES, summaries);
      assert.equal(s.get('send errors'), 0, summaries);
      assert.equal(leaked, 0, 'cli received frames from tgt');
      assert.equal(tcpcopy.exitCode, 0, summaries);
      assert.equal(intercept.exitCode, 0, summaries);
    } finally {
      await rl.destroy();
    }
  },
);
