// The MySQL mode offline (issue 12): `tcpcopy --record` on the online host records sysbench's
// sessions against MariaDB; later `tcpcopy --offline --mysql` replays the recording over raw IP into
// the target (intercept on the assistant forwards the login answers), whose tables are still as
// prepared; then, the target restored, over the socket transport (tcpcopy logs in itself). Each
// recorded login is re-signed for the target's password; the target runs every statement the online
// server ran and its tables end equal (oltp_update_index: writes that commute). The load runs as
// prepared statements, and the target prepared statements of its own before the packet replay, so it
// hands out other statement ids than online did (MariaDB continues a cached thread's counter): the
// replay maps them (counted). The socket transport does not remap: its target runs without a thread
// cache, so that it gives the recorded ids.
import { test } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MARIADB_LAB_USERS,
  ReplicationLab,
  advanceStatementIds,
  checksums,
  generalLogStatements,
  pollUntilSettled,
  prepareTables,
  sysbench,
  watchProcess,
} from '../lab/index.js';
import type { SysbenchResult } from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import type { ReplayReportJson } from '../../src/replay/report-json.js';

const isRoot = process.getuid?.() === 0;
const TABLES = 4;
const ROWS = 10_000;

/** tcpcopy run on the online host, its output watched. */
function tcpcopyOn(
  rl: ReplicationLab<'mariadb'>,
  args: string[],
): { child: ChildProcess; w: ReturnType<typeof watchProcess> } {
  const child = rl.onl.spawn(process.execPath, [join(packageRoot(), 'bin', 'tcpcopy'), ...args]);
  return { child, w: watchProcess(child) };
}

/** `tcpcopy --record file` on the online host while sysbench (prepared statements, 4 s) runs against it. */
async function recordSysbench(
  rl: ReplicationLab<'mariadb'>,
  file: string,
  test: 'oltp_update_index' | 'oltp_update_non_index',
  threads: number,
): Promise<SysbenchResult> {
  const rec = tcpcopyOn(rl, ['--record', file, '-x', '3306', '-i', 'eth0', '--stats-interval', '0']);
  await rec.w.waitFor(/recording on eth0/, 20_000);
  const run = await sysbench(rl.cli, {
    test,
    host: rl.onl.ip,
    user: MARIADB_LAB_USERS.name,
    password: MARIADB_LAB_USERS.onlinePassword,
    tables: TABLES,
    tableSize: ROWS,
    threads,
    timeS: 4,
    psMode: 'auto',
  });
  await new Promise((r) => setTimeout(r, 1000)); // the last FINs reach the capture
  rec.child.kill('SIGINT');
  assert.equal(await rec.w.exited, 0, rec.w.text());
  assert.equal(run.exitCode, 0, run.fatal.join('\n'));
  return run;
}

test(
  'a sysbench recording replayed offline with --mysql: logins re-signed, every statement once, equal checksums',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mysql-offline-'));
    const rl = await ReplicationLab.create({ service: 'mariadb', startTcpcopy: false });
    try {
      const { online, target } = rl;
      await Promise.all([prepareTables(online, TABLES, ROWS), prepareTables(target, TABLES, ROWS)]);
      const prepared = await checksums(target);
      const file = join(dir, 'sysbench.pcapng');
      const tcpcopy = (args: string[]) => tcpcopyOn(rl, args);
      // Prepared statements (see the header: the ids differ on the target).
      const run = await recordSysbench(rl, file, 'oltp_update_index', 4);
      const onlLog = await generalLogStatements(online);
      // The target prepares statements of its own first (reads only): MariaDB numbers a connection's
      // statements on from where the last connection of its cached thread stopped, so the recorded
      // sessions get other ids there than online and the replay must map them.
      await advanceStatementIds(target, TABLES, ROWS, 8);
      assert.deepEqual(await checksums(target), prepared, 'the target is still as prepared');
      const warmLog = await generalLogStatements(target);

      const replay = tcpcopy([
        '-x',
        `3306-${rl.tgt.ip}:3306`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '--offline',
        file,
        '--mysql',
        `${MARIADB_LAB_USERS.name}:${MARIADB_LAB_USERS.targetPassword}`,
        '-W',
        '--report-json',
        join(dir, 'packet.json'),
      ]);
      const code = await replay.w.exited;
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 30_000, 1_000);
      const tgtLog = await generalLogStatements(target);
      const text = replay.w.text();
      t.diagnostic(
        `sysbench ${run.queries} queries; online log ${JSON.stringify(onlLog)}; target log ${JSON.stringify(tgtLog)}; ` +
          `${text
            .split('\n')
            .filter((l) => l.includes('mysql:') || l.includes('sessions:'))
            .join(' | ')}`,
      );
      assert.equal(code, 0, text);
      assert.match(text, /mysql: sessions:4,logins rewritten:4,auth switches:0,auth ok:4,auth failed:0/);
      const remaps = Number(/statement-id remaps:(\d+)/.exec(text)?.[1]);
      assert.ok(remaps > 0, 'statement ids remapped');
      assert.match(text, /unknown statement ids:0,prepare answers lost:0/);
      // --report-json carries the same figures under `mysql`.
      const packetJson = JSON.parse(readFileSync(join(dir, 'packet.json'), 'utf8')) as ReplayReportJson;
      assert.equal(packetJson.mysql?.authOk, 4);
      assert.equal(packetJson.mysql?.statementIdRemaps, remaps);
      assert.equal(tgtLog.accessDenied, 0);
      assert.equal(tgtLog.logins - warmLog.logins, 4);
      assert.equal(tgtLog.statements - warmLog.statements, onlLog.statements, 'every statement, once');
      assert.equal(tgtLog.execute - warmLog.execute, onlLog.execute, 'every execute, once');
      assert.deepEqual(await checksums(target), await checksums(online), 'CHECKSUM TABLE equal on both');

      // The same recording over the socket transport (no intercept: tcpcopy logs in itself), into the
      // target restored to the prepared tables.
      await target.sql(`DROP TABLE ${[...prepared.keys()].join(', ')};`);
      await prepareTables(target, TABLES, ROWS);
      // The socket transport does not remap statement ids: its target must hand out the recorded
      // ones, so it gets a fresh thread (and statement counter) for every connection.
      await target.sql('SET GLOBAL thread_cache_size = 0; FLUSH THREADS;');
      assert.deepEqual(await checksums(target), prepared, 'the target restored');
      const before = await generalLogStatements(target);
      const sockets = tcpcopy([
        '--offline',
        file,
        '--transport',
        'socket',
        '-x',
        `3306-${rl.tgt.ip}:3306`,
        '--mysql',
        `${MARIADB_LAB_USERS.name}:${MARIADB_LAB_USERS.targetPassword}`,
        '--responses',
        join(dir, 'responses.jsonl'),
        '--report-json',
        join(dir, 'socket.json'),
      ]);
      const socketCode = await sockets.w.exited;
      const socketText = sockets.w.text();
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 30_000, 1_000);
      const after = await generalLogStatements(target);
      t.diagnostic(
        `socket transport: ${socketText
          .split('\n')
          .filter((l) => /mysql:|sessions:|failures:/.test(l))
          .join(' | ')}`,
      );
      assert.equal(socketCode, 0, socketText);
      assert.match(socketText, /mysql: sessions:4,logins rewritten:4,auth switches:0,auth ok:4,auth failed:0/);
      const socketJson = JSON.parse(readFileSync(join(dir, 'socket.json'), 'utf8')) as ReplayReportJson;
      assert.equal(socketJson.transport, 'socket');
      assert.equal(socketJson.mysql?.loginsRewritten, 4);
      assert.equal(socketJson.mysql?.authOk, 4);
      assert.equal(after.logins - before.logins, 4);
      assert.equal(after.statements - before.statements, onlLog.statements, 'every statement, once');
      assert.deepEqual(
        await checksums(target),
        await checksums(online),
        'CHECKSUM TABLE equal after the socket replay',
      );
    } finally {
      await rl.destroy();
      if (process.env['MYSQL_E2E_DEBUG'] === '1') console.log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
  },
);

// --mysql-order-writes offline: a recording of oltp_update_non_index (c = ? by id: writes of one row
// that do not commute, hot rows) replayed with the write order into the target as prepared ends with
// the online tables; the recording holds every online answer, which order the writes.
test(
  'a recording of non-commuting writes replayed offline with --mysql-order-writes: equal checksums',
  { skip: !isRoot && 'needs root', timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mysql-offline-order-'));
    const rl = await ReplicationLab.create({ service: 'mariadb', startTcpcopy: false });
    try {
      const { online, target } = rl;
      await Promise.all([prepareTables(online, TABLES, ROWS), prepareTables(target, TABLES, ROWS)]);
      const file = join(dir, 'update-non-index.pcapng');
      const tcpcopy = (args: string[]) => tcpcopyOn(rl, args);
      const run = await recordSysbench(rl, file, 'oltp_update_non_index', 8);
      const onlLog = await generalLogStatements(online);
      const before = await generalLogStatements(target);
      const replay = tcpcopy([
        '-x',
        `3306-${rl.tgt.ip}:3306`,
        '-s',
        rl.ast.ip,
        '--secret',
        rl.secret,
        '--offline',
        file,
        '--mysql',
        `${MARIADB_LAB_USERS.name}:${MARIADB_LAB_USERS.targetPassword}`,
        '--mysql-order-writes',
        '-W',
        '--report-json',
        join(dir, 'report.json'),
      ]);
      const code = await replay.w.exited;
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 30_000, 1_000);
      const after = await generalLogStatements(target);
      const text = replay.w.text();
      const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReplayReportJson;
      t.diagnostic(
        `sysbench ${run.queries} queries; online ${onlLog.statements}, target ${after.statements - before.statements}; ` +
          `mysql ${JSON.stringify(json.mysql)}`,
      );
      assert.equal(code, 0, text);
      assert.equal(json.mysql?.authOk, 8);
      assert.equal(after.statements - before.statements, onlLog.statements, 'every statement, once');
      assert.deepEqual(await checksums(target), await checksums(online), 'CHECKSUM TABLE equal on both');
    } finally {
      await rl.destroy();
      if (process.env['MYSQL_E2E_DEBUG'] === '1') console.log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
  },
);
