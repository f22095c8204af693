// BASELINE, before the MySQL mode: what replicating MariaDB traffic does today. Online and target
// MariaDB (both :3306) hold the same sbtest tables; the application user sbtest has a different
// password on each. sysbench oltp_write_only (8 threads, 5 s) runs from cli against onl while
// tcpcopy (no MySQL mode) copies it to tgt, intercept on ast. Online, every statement sysbench sent
// is in the general log. The target refuses every copied login ("Access denied": the copied
// handshake answers the online server's scramble with the online password), runs none of the
// statements, and its tables stay as prepared, so the checksums differ. The MySQL mode turns this
// around: the lead flips these assertions (logins succeed, same statements, same checksums).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ReplicationLab,
  MARIADB_LAB_USERS,
  prepareTables,
  checksums,
  generalLogStatements,
  sysbench,
  pollUntilSettled,
} from '../lab/index.js';

const isRoot = process.getuid?.() === 0;
const TABLES = 4;
const ROWS = 1000;
const THREADS = 8;
const SECONDS = 5;

test(
  'BASELINE (no MySQL mode yet): copied sysbench logins are refused on the target, whose tables stay as they were',
  { skip: !isRoot && 'needs root', timeout: 60_000 },
  async (t) => {
    const began = Date.now();
    const rl = await ReplicationLab.create({ service: 'mariadb' });
    try {
      const { online, target } = rl;
      const labMs = Date.now() - began;
      // Over each server's socket: tcpcopy does not see it, the general log counts leave it out.
      await Promise.all([prepareTables(online, TABLES, ROWS), prepareTables(target, TABLES, ROWS)]);
      const prepared = await checksums(online);
      assert.equal(prepared.size, TABLES);
      assert.deepEqual(await checksums(target), prepared, 'both servers start with the same tables');
      assert.equal((await generalLogStatements(target)).connections, 0, 'no network client on the target yet');

      const run = await sysbench(rl.cli, {
        test: 'oltp_write_only',
        host: rl.onl.ip,
        user: MARIADB_LAB_USERS.name,
        password: MARIADB_LAB_USERS.onlinePassword,
        tables: TABLES,
        tableSize: ROWS,
        threads: THREADS,
        timeS: SECONDS,
      });
      // Every thread's copied login has reached the target once its log stops growing.
      let tgtLog = await generalLogStatements(target);
      await pollUntilSettled(async () => (tgtLog = await generalLogStatements(target)).accessDenied, 3_000, 250);
      const onlLog = await generalLogStatements(online);
      const { tcpcopy, intercept } = await rl.stop();
      const after = { online: await checksums(online), target: await checksums(target) };
      t.diagnostic(
        `lab up in ${labMs} ms; sysbench: ${run.transactions} transactions (${run.tps} tps), ${run.queries} queries, ` +
          `${run.ignoredErrors} ignored errors, ${run.reconnects} reconnects; online log ${JSON.stringify(onlLog)}; ` +
          `target log ${JSON.stringify(tgtLog)}; tcpcopy conns ${tcpcopy?.summary?.counters.get('conns') ?? '?'}; ` +
          `whole test ${Date.now() - began} ms`,
      );

      // The online side works: sysbench ran, and the online log has each of its statements.
      assert.equal(run.exitCode, 0, run.fatal.join('\n'));
      assert.ok(run.transactions > 0, 'sysbench ran transactions');
      assert.equal(run.reconnects, 0);
      assert.equal(onlLog.logins, THREADS);
      assert.equal(onlLog.accessDenied, 0);
      // A statement that hit a deadlock is logged but counted by sysbench as an ignored error, not a query.
      assert.equal(onlLog.statements, run.queries + run.ignoredErrors, 'online: one Execute per statement sent');
      assert.notDeepEqual(after.online, prepared, 'the online tables changed');

      // Today's target: every copied login refused, nothing run, tables untouched.
      assert.ok(tgtLog.accessDenied > 0, `target: logins refused\n${rl.diagnostics()}`);
      assert.equal(tgtLog.logins, 0, 'target: no copied login succeeded');
      assert.equal(tgtLog.statements, 0, 'target: no statement ran');
      assert.deepEqual(after.target, prepared, 'target tables as prepared');
      assert.notDeepEqual(after.target, after.online, 'checksums differ between online and target');

      assert.ok(tcpcopy !== null && tcpcopy.exitCode === 0, rl.diagnostics());
      assert.equal(intercept.exitCode, 0, rl.diagnostics());
    } finally {
      await rl.destroy();
    }
  },
);
