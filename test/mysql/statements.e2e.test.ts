// The MySQL mode's statement-id remapping end to end (issue 12). MariaDB numbers a connection's
// prepared statements on from where the last connection of its cached thread stopped, and a session
// joined mid-stream usually differs: two clients (test/mysql/ps-client.ts) log in and prepare 5
// statements each before tcpcopy starts, then prepare, execute and close UPDATEs (k + 1: writes that
// commute). Their online ids start at 6, the rebuilt target sessions' at 1 (the target prepared
// nothing before): tcpcopy
// --mysql --mysql-default -W reads the online ids from the captured PREPARE answers and the target's
// from its replies and rewrites every execute and close. The target runs every execute and prepare
// of the clients after the join, none is refused, and the tables end equal. A recording of the same
// run (--record, started with tcpcopy: the sessions are joined in it too) replayed with --offline
// --mysql into the restored target gives the same. And sessions copied from their SYN: a target that
// ran prepared statements before (advanceStatementIds) hands sysbench's copied sessions other ids
// than online did; with the remapping every statement runs once and the tables end equal.
// Needs root; about 60 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MARIADB_LAB_USERS,
  ReplicationLab,
  advanceStatementIds,
  checksums,
  sysbench,
  generalLogStatements,
  pollUntilSettled,
  prepareTables,
  watchProcess,
} from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import { mysqlLine } from './stats-line.js';

const isRoot = process.getuid?.() === 0;
const TABLES = 4;
const ROWS = 10_000;
const CLIENTS = 2;
const PRE = 5;
const SECONDS = 5;

test(
  '--mysql: sessions joined mid-stream prepare statements: ids remapped to the target’s, every execute runs, equal checksums (live and offline)',
  { skip: !isRoot && 'needs root', timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'remap-statements-'));
    const mysqlArgs = [
      '--mysql',
      `${MARIADB_LAB_USERS.name}:${MARIADB_LAB_USERS.targetPassword}`,
      '--mysql-default',
      `${MARIADB_LAB_USERS.name}/sbtest`,
      '-W',
    ];
    const rl = await ReplicationLab.create({ service: 'mariadb', startTcpcopy: false });
    // tcpcopy over raw IP to the target, intercept on ast; started here (not by the lab) so that
    // intercept stays up for the offline replay after it.
    const tcpcopy = (more: string[]) => {
      const child = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '-x',
        `3306-${rl.tgt.ip}:3306`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        ...mysqlArgs,
        ...more,
      ]);
      return { child, w: watchProcess(child) };
    };
    try {
      const { online, target } = rl;
      await Promise.all([prepareTables(online, TABLES, ROWS), prepareTables(target, TABLES, ROWS)]);
      const prepared = await checksums(target);
      const clientJs = join(packageRoot(), 'dist', 'test', 'mysql', 'ps-client.js');
      const clients = Array.from({ length: CLIENTS }, () => {
        const child = rl.cli.spawn(
          process.execPath,
          [clientJs, rl.onl.ip, MARIADB_LAB_USERS.name, MARIADB_LAB_USERS.onlinePassword, String(PRE), String(SECONDS)],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        return { child, w: watchProcess(child) };
      });
      for (const c of clients) await c.w.waitFor(/^ready$/m, 20_000);
      // tcpcopy and a recording start now: the clients' sessions are joined mid-stream in both.
      const file = join(dir, 'joined.pcapng');
      const rec = rl.onl.spawn(process.execPath, [
        join(packageRoot(), 'bin', 'tcpcopy'),
        '--record',
        file,
        '-x',
        '3306',
        '-i',
        'eth0',
        '--stats-interval',
        '0',
      ]);
      const recW = watchProcess(rec);
      await recW.waitFor(/recording on eth0/, 20_000);
      const live = tcpcopy(['-i', 'eth0']);
      await live.w.waitFor(/channel: 2 connection\(s\) to intercept authenticated/, 20_000);
      await new Promise((r) => setTimeout(r, 1_000));
      for (const c of clients) c.child.stdin?.write('go\n');
      const codes = await Promise.all(clients.map((c) => c.w.exited));
      const counts = clients.map((c) => {
        const line = c.w
          .text()
          .split('\n')
          .find((l) => l.startsWith('{'));
        return JSON.parse(line ?? '{}') as { prepares: number; executes: number; closes: number };
      });
      await new Promise((r) => setTimeout(r, 1000)); // the last packets reach the capture
      rec.kill('SIGINT');
      assert.equal(await recW.exited, 0, recW.text());
      const total = counts.reduce(
        (a, b) => ({
          prepares: a.prepares + b.prepares,
          executes: a.executes + b.executes,
          closes: a.closes + b.closes,
        }),
        { prepares: 0, executes: 0, closes: 0 },
      );
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 60_000, 1_000);
      const tgtLog = await generalLogStatements(target);
      live.child.kill('SIGTERM');
      const liveCode = await live.w.exited;
      const my = mysqlLine(live.w.text());
      const onlineSums = await checksums(online);
      t.diagnostic(
        `clients after the join ${JSON.stringify(total)}; target log ${JSON.stringify(tgtLog)}; mysql ${JSON.stringify([...my])}`,
      );
      assert.deepEqual(codes, [0, 0], clients.map((c) => c.w.text()).join('\n'));
      assert.ok(total.executes > 100, 'the clients ran');
      assert.equal(liveCode, 0, live.w.text());
      assert.equal(my.get('joined rebuilt'), CLIENTS, live.w.text());
      assert.equal(my.get('statements prepared'), total.prepares, 'both ids of every prepare after the join');
      assert.equal(my.get('statement-id remaps'), total.executes + total.closes, 'every execute and close remapped');
      assert.equal(my.get('unknown statement ids'), 0);
      assert.equal(my.get('prepare answers lost'), 0);
      assert.equal(tgtLog.execute, total.executes, 'every execute ran on the target');
      assert.equal(tgtLog.prepare, total.prepares);
      assert.doesNotMatch(readFileSync(target.generalLogPath, 'utf8'), /Unknown prepared statement/);
      assert.notDeepEqual(onlineSums, prepared, 'the load changed the tables');
      assert.deepEqual(await checksums(target), onlineSums, 'CHECKSUM TABLE equal on both');

      // The recording, replayed into the target restored to the prepared tables.
      await target.sql(`DROP TABLE ${[...prepared.keys()].join(', ')};`);
      await prepareTables(target, TABLES, ROWS);
      assert.deepEqual(await checksums(target), prepared, 'the target restored');
      const before = await generalLogStatements(target);
      const { w: replayW } = tcpcopy(['--offline', file]);
      const code = await replayW.exited;
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 30_000, 1_000);
      const after = await generalLogStatements(target);
      const off = mysqlLine(replayW.text());
      t.diagnostic(`offline: target log ${JSON.stringify(after)}; mysql ${JSON.stringify([...off])}`);
      assert.equal(code, 0, replayW.text());
      assert.equal(off.get('joined rebuilt'), CLIENTS);
      assert.equal(off.get('statement-id remaps'), total.executes + total.closes);
      assert.equal(off.get('unknown statement ids'), 0);
      assert.equal(after.execute - before.execute, total.executes, 'every execute ran on the target');
      assert.deepEqual(await checksums(target), onlineSums, 'CHECKSUM TABLE equal after the offline replay');
    } finally {
      await rl.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  '--mysql: sysbench oltp_update_index with prepared statements into a target whose statement ids differ: remapped, every statement once, equal checksums',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const rl = await ReplicationLab.create({
      service: 'mariadb',
      tcpcopyArgs: ['--mysql', `${MARIADB_LAB_USERS.name}:${MARIADB_LAB_USERS.targetPassword}`, '-W'],
    });
    try {
      const { online, target } = rl;
      await Promise.all([prepareTables(online, TABLES, ROWS), prepareTables(target, TABLES, ROWS)]);
      await advanceStatementIds(target, TABLES, ROWS, 8);
      const prepared = await checksums(target);
      assert.deepEqual(await checksums(online), prepared, 'both servers start with the same tables');
      const run = await sysbench(rl.cli, {
        test: 'oltp_update_index',
        host: rl.onl.ip,
        user: MARIADB_LAB_USERS.name,
        password: MARIADB_LAB_USERS.onlinePassword,
        tables: TABLES,
        tableSize: ROWS,
        threads: 8,
        timeS: 8,
        psMode: 'auto',
      });
      const onlLog = await generalLogStatements(online);
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 60_000, 1_000);
      const tgtLog = await generalLogStatements(target);
      const { tcpcopy } = await rl.stop();
      const my = mysqlLine(tcpcopy?.log ?? '');
      t.diagnostic(
        `sysbench ${run.queries} queries; online log ${JSON.stringify(onlLog)}; target log ${JSON.stringify(tgtLog)}; ` +
          `mysql ${JSON.stringify([...my])}`,
      );
      assert.equal(run.exitCode, 0, run.fatal.join('\n'));
      assert.equal(tgtLog.logins, 8, rl.diagnostics());
      assert.equal(my.get('statements prepared'), onlLog.prepare, 'both ids of every prepare');
      assert.ok((my.get('statement-id remaps') ?? 0) >= onlLog.execute, 'every execute remapped');
      assert.equal(my.get('unknown statement ids'), 0);
      assert.equal(my.get('prepare answers lost'), 0);
      assert.equal(tgtLog.prepare, onlLog.prepare);
      assert.equal(tgtLog.execute, onlLog.execute, 'every execute ran on the target');
      assert.equal(tgtLog.statements, onlLog.statements, 'every statement, once');
      const after = await checksums(online);
      assert.notDeepEqual(after, prepared, 'the load changed the tables');
      assert.deepEqual(await checksums(target), after, 'CHECKSUM TABLE equal on both');
      assert.ok(tcpcopy !== null && tcpcopy.exitCode === 0, rl.diagnostics());
    } finally {
      await rl.destroy();
    }
  },
);
