// The lab's MariaDB server, end to end in namespaces (needs root): it listens on its host's lab
// address only, offers no TLS and the mysql_native_password login in its greeting (what the MySQL
// mode sees first on the wire), takes sysbench logins with a password and with ed25519, refuses a wrong
// password (counted in the general log), and stops by pid.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, LabError, sysbench, prepareTables, checksums, generalLogStatements } from './index.js';
import type { LabHost, MariadbServer } from './index.js';

const isRoot = process.getuid?.() === 0;

/** Run by node inside cli: reads the server's first packet (the greeting) and prints its fields as JSON. */
const READ_GREETING = `
const s = require('node:net').connect(Number(process.argv[2]), process.argv[1]);
s.once('data', (b) => {
  let p = 5;
  const version = b.toString('latin1', p, b.indexOf(0, p));
  p += version.length + 1 + 4 + 8 + 1;
  const capLow = b.readUInt16LE(p);
  const capHigh = b.readUInt16LE(p + 5);
  const authLen = b[p + 7];
  const mariadbCaps = b.readUInt32LE(p + 14);
  p += 18 + Math.max(13, authLen - 8);
  const plugin = b.toString('latin1', p, b.indexOf(0, p));
  console.log(JSON.stringify({ seq: b[3], protocol: b[4], version, capabilities: capLow | (capHigh << 16), mariadbCaps, plugin }));
  s.destroy();
});
`;

void describe('lab MariaDB', { skip: !isRoot && 'needs root' }, () => {
  let lab: Lab;
  let cli: LabHost;
  let onl: LabHost;
  let db: MariadbServer;
  let startMs = 0;

  before(async () => {
    lab = await Lab.create({ hosts: ['cli', 'onl'], ipv6: false });
    cli = lab.host('cli');
    onl = lab.host('onl');
    const t = Date.now();
    db = await onl.startMariadb({
      users: [
        { name: 'sbtest', password: 'pw-A' },
        { name: 'sbtest_ed', password: 'pw-A', plugin: 'ed25519' },
      ],
    });
    startMs = Date.now() - t;
  });
  after(async () => {
    await lab.destroy();
  });

  void test('server set-up: lab address only, no TLS, no binlog, general log, ed25519 loaded', async (t) => {
    t.diagnostic(`startMariadb took ${startMs} ms`);
    assert.ok(startMs < 10_000, `start-up took ${startMs} ms`);
    assert.deepEqual(
      await db.sql('SELECT @@bind_address, @@have_ssl, @@log_bin, @@general_log, @@skip_name_resolve;'),
      [[onl.ip, 'DISABLED', '0', '1', '1']],
    );
    assert.deepEqual(
      await db.sql("SELECT plugin_status FROM information_schema.plugins WHERE plugin_name = 'ed25519';"),
      [['ACTIVE']],
    );
    assert.deepEqual(await db.sql("SELECT user, plugin FROM mysql.user WHERE user LIKE 'sbtest%' ORDER BY user;"), [
      ['sbtest', 'mysql_native_password'],
      ['sbtest_ed', 'ed25519'],
    ]);
    const listen = (await onl.exec('ss', ['-Hltn'])).stdout;
    assert.match(listen, new RegExp(`${onl.ip.replace(/\./g, '\\.')}:3306 `));
    assert.doesNotMatch(listen, /(0\.0\.0\.0|\*|127\.0\.0\.1|\[::\]):3306 /);
  });

  void test('greeting: protocol 10, no CLIENT_SSL, mysql_native_password first', async () => {
    const out = (await cli.exec(process.execPath, ['-e', READ_GREETING, onl.ip, '3306'])).stdout;
    const g = JSON.parse(out) as {
      seq: number;
      protocol: number;
      version: string;
      capabilities: number;
      plugin: string;
    };
    assert.equal(g.seq, 0);
    assert.equal(g.protocol, 10);
    assert.match(g.version, /^5\.5\.5-10\.11\.\d+-MariaDB/);
    assert.equal(g.capabilities & 0x800, 0, 'CLIENT_SSL is not offered');
    assert.notEqual(g.capabilities & 0x80000, 0, 'CLIENT_PLUGIN_AUTH');
    // MariaDB clears CLIENT_LONG_PASSWORD (1) to say that its own capabilities follow.
    assert.equal(g.capabilities & 1, 0);
    assert.equal(g.plugin, 'mysql_native_password');
  });

  void test('sysbench: password and ed25519 logins run, a wrong password is refused and counted', async () => {
    await prepareTables(db, 2, 500);
    const sums = await checksums(db);
    assert.deepEqual([...sums.keys()], ['sbtest.sbtest1', 'sbtest.sbtest2']);
    const base = { test: 'oltp_read_write', host: onl.ip, tables: 2, tableSize: 500, threads: 2, timeS: 1 } as const;
    const native = await sysbench(cli, { ...base, user: 'sbtest', password: 'pw-A', psMode: 'disable' });
    const ed = await sysbench(cli, { ...base, user: 'sbtest_ed', password: 'pw-A' });
    assert.ok(native.transactions > 0 && ed.transactions > 0);
    await assert.rejects(
      sysbench(cli, { ...base, user: 'sbtest', password: 'wrong' }),
      (e: unknown) => e instanceof LabError && e.code === 'ECMDFAIL' && /error 1045: Access denied/.test(e.message),
    );
    const log = await generalLogStatements(db);
    assert.equal(log.query, native.queries + native.ignoredErrors, 'text protocol: one Query per statement');
    assert.equal(log.execute, ed.queries + ed.ignoredErrors, 'prepared statements: one Execute per statement');
    assert.equal(log.logins, 4);
    assert.equal(log.accessDenied, 2, 'each of the two threads refused');
    assert.notDeepEqual(await checksums(db), sums, 'the tables changed');
  });

  void test('stop ends the server by pid', async () => {
    const pid = db.pid;
    await db.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
