// Pure parts of the MariaDB lab: the server's and sysbench's command lines, the set-up statements,
// and the readers of sysbench's summary and of the general log, whose counts the MySQL tests compare
// between the online and the target server. The samples are real outputs of MariaDB 10.11 and
// sysbench 1.0.20 on this machine (shortened). No root needed.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  LabError,
  mariadbdArgs,
  installDbArgs,
  setupStatements,
  sqlString,
  parseBatchRows,
  parseGeneralLog,
  countGeneralLog,
  parseSysbench,
  sysbenchRunArgs,
  sysbenchPrepareArgs,
  mariadbLabUsers,
  MARIADB_LAB_USERS,
} from './index.js';

// Header, the harness over the socket (a statement spanning lines), two sysbench connections (prepared
// statements), a text-protocol client, and a refused login: the time stamp starts a new second.
const GENERAL_LOG = [
  '/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:',
  'Tcp port: 3306  Unix socket: /tmp/tclx_lab/onl-mariadb3306-x/mysqld.sock',
  'Time\t\t    Id Command\tArgument',
  '261207  3:57:25\t     3 Connect\troot@localhost on  using Socket',
  '\t\t     3 Query\tCREATE DATABASE sbtest',
  '\t\t     4 Connect\troot@localhost on sbtest using Socket',
  '\t\t     4 Query\tCREATE TABLE sbtest1(',
  '  id INTEGER NOT NULL AUTO_INCREMENT,',
  '  PRIMARY KEY (id)',
  ') /*! ENGINE = innodb */',
  '\t\t     4 Quit\t',
  '\t\t     9 Connect\tsbtest@10.77.0.1 on sbtest using TCP/IP',
  '\t\t    12 Connect\tsbtest@10.77.0.1 on sbtest using TCP/IP',
  '\t\t    12 Prepare\tBEGIN',
  '\t\t     9 Prepare\tUPDATE sbtest1 SET k=k+1 WHERE id=?',
  '\t\t    12 Execute\tBEGIN',
  '261207  3:57:26\t     9 Execute\tUPDATE sbtest1 SET k=k+1 WHERE id=4961',
  '\t\t    12 Execute\tCOMMIT',
  '\t\t    12 Close stmt\t',
  '\t\t    12 Quit\t',
  '\t\t    16 Connect\tsbtest_ed@10.77.0.1 on sbtest using TCP/IP',
  '\t\t    16 Query\tBEGIN',
  '\t\t    16 Query\tSELECT c FROM sbtest1 WHERE id=5012',
  '\t\t    24 Connect\tsbtest@10.77.0.1 on sbtest using TCP/IP',
  "\t\t    24 Connect\tAccess denied for user 'sbtest'@'10.77.0.1' (using password: YES)",
  '\t\t     7 Query\tselect 1',
  '',
].join('\n');

const SYSBENCH_OUT = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Running the test with following options:
Number of threads: 8
Initializing random number generator from current time


Initializing worker threads...

Threads started!

SQL statistics:
    queries performed:
        read:                            0
        write:                           28713
        other:                           14423
        total:                           43136
    transactions:                        7097   (1416.52 per sec.)
    queries:                             43136  (8609.70 per sec.)
    ignored errors:                      229    (45.71 per sec.)
    reconnects:                          0      (0.00 per sec.)

General statistics:
    total time:                          5.0095s
    total number of events:              7097

Latency (ms):
         min:                                    0.36
         avg:                                    5.64
         max:                                   56.28
         95th percentile:                       12.98
         sum:                                40018.11
`;

const SYSBENCH_DENIED = `Initializing worker threads...

FATAL: unable to connect to MySQL server on host '10.77.0.2', port 3306, aborting...
FATAL: error 1045: Access denied for user 'sbtest'@'10.77.0.1' (using password: YES)
FATAL: \`thread_init' function failed: /usr/share/sysbench/oltp_common.lua:349: connection creation failed
FATAL: Thread initialization failed!
`;

void describe('general log', () => {
  void test('entries: id, command, argument; continuation lines belong to their statement', () => {
    const e = parseGeneralLog(GENERAL_LOG);
    assert.equal(e.length, 20);
    assert.deepEqual(e[0], { id: 3, command: 'Connect', argument: 'root@localhost on  using Socket' });
    assert.deepEqual(e[3], {
      id: 4,
      command: 'Query',
      argument:
        'CREATE TABLE sbtest1(\n  id INTEGER NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (id)\n) /*! ENGINE = innodb */',
    });
    assert.deepEqual(e[10], { id: 9, command: 'Execute', argument: 'UPDATE sbtest1 SET k=k+1 WHERE id=4961' });
    assert.deepEqual(e[12], { id: 12, command: 'Close stmt', argument: '' });
    assert.deepEqual(e[19], { id: 7, command: 'Query', argument: 'select 1' });
    assert.deepEqual(parseGeneralLog(GENERAL_LOG.split('\n').slice(0, 3).join('\n')), [], 'the header alone');
  });

  void test('counts leave out the socket connections and tell refused logins', () => {
    assert.deepEqual(countGeneralLog(parseGeneralLog(GENERAL_LOG)), {
      // Executes of 9 and 12 (3), Queries of 16 (2) and of 7, whose Connect the log does not have (1).
      statements: 6,
      query: 3,
      execute: 3,
      prepare: 2,
      logins: 3,
      accessDenied: 1,
      connections: 5,
    });
    assert.equal(countGeneralLog([]).connections, 0);
  });
});

void describe('sysbench', () => {
  void test('summary', () => {
    assert.deepEqual(parseSysbench(SYSBENCH_OUT), {
      exitCode: 0,
      transactions: 7097,
      tps: 1416.52,
      queries: 43136,
      qps: 8609.7,
      read: 0,
      write: 28713,
      other: 14423,
      ignoredErrors: 229,
      reconnects: 0,
      totalTimeS: 5.0095,
      latencyAvgMs: 5.64,
      latencyP95Ms: 12.98,
      fatal: [],
    });
    assert.throws(
      () => parseSysbench(SYSBENCH_DENIED, 1),
      (e: unknown) => e instanceof LabError && e.code === 'ECMDFAIL' && e.message.includes('error 1045'),
    );
    assert.deepEqual(parseSysbench(`${SYSBENCH_OUT}${SYSBENCH_DENIED}`, 1).fatal.length, 4);
  });

  void test('run and prepare command lines', () => {
    const o = {
      test: 'oltp_write_only',
      host: '10.77.0.2',
      user: 'sbtest',
      password: 'p A',
      tables: 4,
      tableSize: 1000,
      threads: 8,
      timeS: 5,
    } as const;
    assert.deepEqual(sysbenchRunArgs({ ...o, psMode: 'disable', extraArgs: ['--skip_trx=on'] }), [
      'oltp_write_only',
      '--db-driver=mysql',
      '--mysql-host=10.77.0.2',
      '--mysql-port=3306',
      '--mysql-user=sbtest',
      '--mysql-password=p A',
      '--mysql-db=sbtest',
      '--mysql-ssl=off',
      '--tables=4',
      '--table-size=1000',
      '--threads=8',
      '--time=5',
      '--events=0',
      '--db-ps-mode=disable',
      '--skip_trx=on',
      'run',
    ]);
    assert.ok(sysbenchRunArgs(o).includes('--db-ps-mode=auto'));
    for (const bad of [{ threads: 0 }, { timeS: 301 }, { tables: 1.5 }, { extraArgs: ['run'] }, { port: 0 }])
      assert.throws(
        () => sysbenchRunArgs({ ...o, ...bad }),
        (e: unknown) => e instanceof LabError && e.code === 'EBADARG',
        JSON.stringify(bad),
      );
    const prep = sysbenchPrepareArgs('/tmp/x/mysqld.sock', 2, 500);
    assert.deepEqual(prep.slice(-4), ['--table-size=500', '--threads=1', '--rand-seed=1', 'prepare']);
    assert.ok(prep.includes('--mysql-socket=/tmp/x/mysqld.sock'));
  });
});

void describe('server set-up', () => {
  void test('mariadbd: no option files first, no TLS, general log, ed25519, lab addresses only', () => {
    const a = mariadbdArgs('/t/d', 3307, ['10.77.0.2', 'fd77::2']);
    assert.equal(a[0], '--no-defaults');
    for (const want of [
      '--datadir=/t/d/data',
      '--socket=/t/d/mysqld.sock',
      '--port=3307',
      '--bind-address=10.77.0.2,fd77::2',
      '--skip-ssl',
      '--skip-log-bin',
      '--general-log=1',
      '--general-log-file=/t/d/general.log',
      '--plugin-load-add=auth_ed25519',
      '--skip-name-resolve',
    ])
      assert.ok(a.includes(want), want);
    // The bootstrap sizes InnoDB as the server does.
    const i = installDbArgs('/t/d/data');
    assert.equal(i[0], '--no-defaults');
    assert.deepEqual(
      i.filter((x) => x.startsWith('--innodb-')),
      a.filter((x) => /^--innodb-(buffer-pool-size|log-file-size|log-buffer-size)=/.test(x)),
    );
  });

  void test('users and statements', () => {
    assert.equal(sqlString("it's a \\ test"), "'it''s a \\\\ test'");
    assert.equal(
      setupStatements([
        { name: 'sbtest', password: "A'1" },
        { name: 'sbtest_ed', password: 'A', plugin: 'ed25519' },
      ]),
      [
        'CREATE DATABASE sbtest;',
        "CREATE USER 'sbtest'@'%' IDENTIFIED BY 'A''1';",
        "GRANT ALL ON sbtest.* TO 'sbtest'@'%';",
        "CREATE USER 'sbtest_ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('A');",
        "GRANT ALL ON sbtest.* TO 'sbtest_ed'@'%';",
      ].join('\n'),
    );
    assert.throws(
      () => setupStatements([{ name: "x'; DROP", password: '' }]),
      (e: unknown) => e instanceof LabError && e.code === 'EBADARG',
    );
    assert.deepEqual(parseBatchRows('sbtest.sbtest1\t4116516979\nsbtest.sbtest2\tNULL\n'), [
      ['sbtest.sbtest1', '4116516979'],
      ['sbtest.sbtest2', 'NULL'],
    ]);
    // One name, a different password on each side; the ed25519 user only when asked.
    const [onl, tgt] = [mariadbLabUsers('online'), mariadbLabUsers('target')];
    assert.deepEqual(onl, [{ name: 'sbtest', password: MARIADB_LAB_USERS.onlinePassword }]);
    assert.deepEqual(tgt, [{ name: 'sbtest', password: MARIADB_LAB_USERS.targetPassword }]);
    assert.notEqual(onl[0]?.password, tgt[0]?.password);
    assert.deepEqual(mariadbLabUsers('target', { targetPassword: 'B', ed25519: true }), [
      { name: 'sbtest', password: 'B' },
      { name: 'sbtest_ed', password: 'B', plugin: 'ed25519' },
    ]);
  });
});
