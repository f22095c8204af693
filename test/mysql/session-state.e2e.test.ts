// A rebuilt session gets its client's session state (issue 12): an application that sets each
// connection up the same way (USE shop, SET @tag, SET SESSION sql_mode; test/mysql/state-client.ts)
// has connection A open and set up before tcpcopy starts. tcpcopy --mysql -W then captures the
// client's connection B from its login: its login and its set-up are remembered for the client.
// A's next statement (INSERT into the unqualified table t, which only shop has, of @tag and the
// session's sql_mode) joins A mid-stream: A is rebuilt with B's login, then B's USE and SETs go before
// A's INSERT. The target ends with the very rows online has (tag and sql_mode included), its general
// log shows the replayed set-up in A's session, and the mode counts one state replayed, none refused.
// Without the state the INSERT fails on the target (no table t in sbtest): the rows would differ.
// Needs root; about 15 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MARIADB_LAB_USERS,
  ReplicationLab,
  generalLogStatements,
  parseGeneralLog,
  pollUntilSettled,
  watchProcess,
} from '../lab/index.js';
import { packageRoot } from '../../src/paths.js';
import { mysqlLine } from './stats-line.js';

const isRoot = process.getuid?.() === 0;
const SHOP = [
  'CREATE DATABASE shop;',
  'CREATE TABLE shop.t (id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(32), mode VARCHAR(255));',
  `GRANT ALL ON shop.* TO '${MARIADB_LAB_USERS.name}'@'%';`,
].join('\n');

test(
  "--mysql: a session joined mid-stream is rebuilt with its client's login and its client's USE/SET state",
  { skip: !isRoot && 'needs root', timeout: 120_000 },
  async (t) => {
    const rl = await ReplicationLab.create({
      service: 'mariadb',
      startTcpcopy: false,
      tcpcopyArgs: ['--mysql', `${MARIADB_LAB_USERS.name}:${MARIADB_LAB_USERS.targetPassword}`, '-W'],
    });
    try {
      const { online, target } = rl;
      await Promise.all([online.sql(SHOP), target.sql(SHOP)]);
      const client = rl.cli.spawn(
        process.execPath,
        [
          join(packageRoot(), 'dist', 'test', 'mysql', 'state-client.js'),
          rl.onl.ip,
          MARIADB_LAB_USERS.name,
          MARIADB_LAB_USERS.onlinePassword,
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      const w = watchProcess(client);
      await w.waitFor(/^ready$/m, 20_000);
      await rl.startTcpcopy();
      await new Promise((r) => setTimeout(r, 1_000));
      client.stdin?.write('go\n');
      assert.equal(await w.exited, 0, w.text());
      await pollUntilSettled(async () => (await generalLogStatements(target)).statements, 30_000, 1_000);
      const { tcpcopy } = await rl.stop();
      const my = mysqlLine(tcpcopy?.log ?? '');
      const rows = async (s: typeof online): Promise<string[][]> => s.sql('SELECT tag, mode FROM shop.t ORDER BY id');
      const onl = await rows(online);
      const tgt = await rows(target);
      const log = parseGeneralLog(readFileSync(target.generalLogPath, 'utf8'));
      t.diagnostic(`online ${JSON.stringify(onl)} target ${JSON.stringify(tgt)} mysql ${JSON.stringify([...my])}`);
      assert.deepEqual(onl, [
        ['app-7', 'ANSI_QUOTES'],
        ['app-7', 'ANSI_QUOTES'],
      ]);
      assert.deepEqual(tgt, onl, `the target's rows${'\n'}${rl.diagnostics()}`);
      assert.equal(my.get('logins rewritten'), 1, "B's own login");
      assert.equal(my.get('joined rebuilt'), 1, 'A rebuilt');
      assert.equal(my.get('joined state replayed'), 1);
      assert.equal(my.get('state refused'), 0);
      // On the target, A's session: its login, the set-up it was given, then its own INSERT.
      const inserts = log.filter((e) => e.command === 'Query' && e.argument.startsWith('INSERT INTO t'));
      assert.equal(inserts.length, 2);
      const a = inserts[1]!.id;
      assert.deepEqual(
        log.filter((e) => e.id === a && e.command !== 'Connect').map((e) => e.argument.trim()),
        ['USE shop', "SET @tag = 'app-7'", "SET SESSION sql_mode = 'ANSI_QUOTES'", inserts[1]!.argument.trim(), ''],
      );
      assert.ok(tcpcopy !== null && tcpcopy.exitCode === 0, rl.diagnostics());
    } finally {
      await rl.destroy();
    }
  },
);
