// -f: two tcpcopy instances on the online host copy the same clients to one target, each with -n 2,
// one with -f 0 and one with -f 1: their copies take disjoint places of each client port's
// permutation, so the target gets 4 sessions for each online one, none shared between the instances
// (with the same factor both would send each copy on the same 4-tuple: 7,408 of 8,000 in one run).
// ab -c10 -n2000 (short connections): 8,000 on the target within 0.25 %. Not exact: an instance cannot
// see the other's sessions, so a copy can meet the other instance's live copy (or its TIME-WAIT) of
// another client port on the same place; both register the 4-tuple with intercept, the later takes
// its replies, and 1-6 copies per run end in a handshake timeout (7,994-8,000 in 7 runs; a CI run
// went below 0.1 %). Needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplicationLab, markLogs, measureLag, watchProcess } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';

const isRoot = process.getuid?.() === 0;
const REQUESTS = 2_000;

test(
  '-f: two instances with -n 2 and factors 0 and 1 give the target 4 × online, on distinct ports',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({ service: 'nginx', startTcpcopy: false });
    try {
      const instances = [0, 1].map((factor) => {
        const child = rl.onl.spawn(process.execPath, [
          join(packageRoot(), 'bin', 'tcpcopy'),
          '-x',
          `80-${rl.tgt.ip}:8080`,
          '-s',
          rl.ast.ip,
          '--secret',
          rl.secret,
          '-i',
          'eth0',
          '-n',
          '2',
          '-f',
          String(factor),
        ]);
        return { child, w: watchProcess(child) };
      });
      for (const i of instances) await i.w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      const mark = await markLogs(rl);
      const ab = await rl.cli.ab({
        url: `http://${rl.onl.ip}/`,
        concurrency: 10,
        requests: REQUESTS,
        keepAlive: false,
        timeLimitS: 60,
      });
      assert.equal(ab.complete, REQUESTS);
      // A copy that met the other instance's live copy on its 4-tuple is reset by the target and opens
      // again after its retransmission timer (1, 2, 4 s): the target may stay quiet for seconds before
      // its last sessions come (a CI run stopped after 1.5 s quiet with 26 sessions still held: 7,991).
      const lag = await measureLag(rl, { since: mark, timeoutMs: 90_000, quietMs: 8_000 });
      for (const i of instances) i.child.kill('SIGINT');
      for (const i of instances) assert.equal(await i.w.exited, 0, i.w.text());
      const target = (await rl.target.logLines()).slice(mark.target);
      const ports = new Set(target.map((l) => l.split(' ')[1]));
      const closed = instances.map((i) => /closed: ([^\n\\]*)/.exec(i.w.text())?.[1] ?? '');
      t.diagnostic(
        `online ${lag.online}, target ${target.length} (${ports.size} client ports), lag ${lag.lagS.toFixed(3)} s; closed: ${closed.join(' | ')}`,
      );
      assert.equal(lag.online, REQUESTS);
      // Each instance sees only its own sessions (see the top): within 0.25 %, where one factor for
      // both instances loses 7 %.
      assert.ok(
        target.length >= 0.9975 * 4 * REQUESTS && target.length <= 4 * REQUESTS,
        `${target.length} of ${4 * REQUESTS}\n${instances.map((i) => i.w.text()).join('\n')}\n${rl.diagnostics()}`,
      );
      for (const c of closed) assert.doesNotMatch(c, /replaced/);
    } finally {
      await rl.destroy();
    }
  },
);
