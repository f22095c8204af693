// --mysql, --mysql-file, --mysql-skip-grant, --mysql-default and --mysql-order-writes: the target
// passwords by user (a password may hold ':'; a user named twice, an item without ':' or an empty
// file are refused with the flag named), the file's comments and blank lines, and the combinations
// refused with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMysqlMode } from '../../src/cli/options/mysql.js';

const none = { tcpcopy1: false };

void test('no MySQL option: off', () => {
  assert.equal(parseMysqlMode({}, none), null);
});

void test('--mysql user:password,...: passwords by user, ":" allowed in a password', () => {
  const m = parseMysqlMode({ mysql: 'app:s3cret,ro:a:b:c' }, none);
  assert.deepEqual(
    [...m!.passwords],
    [
      ['app', 's3cret'],
      ['ro', 'a:b:c'],
    ],
  );
  assert.equal(m!.skipGrant, false);
  assert.equal(m!.defaultLogin, null);
});

void test('--mysql-file: one user:password per line, comments and blank lines skipped; with --mysql', () => {
  const m = parseMysqlMode(
    { mysql: 'app:x', mysqlFile: 'users', mysqlFileText: '# target passwords\n\nreport:r,1\r\nbatch: spaced \n' },
    none,
  );
  assert.deepEqual(
    [...m!.passwords],
    [
      ['app', 'x'],
      ['report', 'r,1'],
      ['batch', ' spaced'],
    ],
  );
});

void test('bad items are refused, naming the flag (and the file line), never echoing a password', () => {
  assert.throws(
    () => parseMysqlMode({ mysql: 'app' }, none),
    /^OptionError: --mysql: expected user:password, got 'app'$/,
  );
  assert.throws(() => parseMysqlMode({ mysql: ':pw' }, none), /--mysql: expected user:password, got ':…'/);
  assert.throws(() => parseMysqlMode({ mysql: 'a:1,,b:2' }, none), /--mysql: empty item/);
  assert.throws(() => parseMysqlMode({ mysql: 'a:1,a:2' }, none), /--mysql: user 'a' is given twice/);
  assert.throws(
    () => parseMysqlMode({ mysqlFile: 'f', mysqlFileText: 'ok:1\nbroken\n' }, none),
    /--mysql-file f line 2: expected user:password, got 'broken'/,
  );
  assert.throws(
    () => parseMysqlMode({ mysqlFile: 'f', mysqlFileText: '# nothing\n' }, none),
    /--mysql needs the target password/,
  );
});

void test('--mysql-skip-grant alone; --mysql-default user[/db] needs a password for its user', () => {
  assert.deepEqual(parseMysqlMode({ mysqlSkipGrant: true }, none), {
    passwords: new Map(),
    skipGrant: true,
    defaultLogin: null,
    orderWrites: false,
  });
  assert.deepEqual(parseMysqlMode({ mysql: 'app:x', mysqlDefault: 'app/shop' }, none)!.defaultLogin, {
    user: 'app',
    database: 'shop',
  });
  assert.deepEqual(parseMysqlMode({ mysql: 'app:x', mysqlDefault: 'app' }, none)!.defaultLogin, {
    user: 'app',
    database: null,
  });
  assert.throws(
    () => parseMysqlMode({ mysql: 'app:x', mysqlDefault: 'other' }, none),
    /--mysql-default other: --mysql names no target password/,
  );
  assert.throws(() => parseMysqlMode({ mysql: 'app:x', mysqlDefault: 'app/' }, none), /expected user\[\/database\]/);
  assert.throws(() => parseMysqlMode({ mysqlDefault: 'app' }, none), /--mysql-default needs --mysql/);
});

void test('--tcpcopy1: refused, the C channel carries no reply payloads', () => {
  assert.throws(
    () => parseMysqlMode({ mysql: 'a:b' }, { tcpcopy1: true }),
    /TCPCopy 1\.x channel \(--tcpcopy1\) does not carry/,
  );
});

void test('--mysql-order-writes: off unless given; needs --mysql; refused with the socket transport', () => {
  assert.equal(parseMysqlMode({ mysql: 'app:x' }, none)!.orderWrites, false);
  assert.equal(parseMysqlMode({ mysql: 'app:x', mysqlOrderWrites: true }, none)!.orderWrites, true);
  assert.throws(
    () => parseMysqlMode({ mysqlOrderWrites: true }, none),
    /--mysql-order-writes needs --mysql, --mysql-file or --mysql-skip-grant/,
  );
  assert.throws(
    () => parseMysqlMode({ mysql: 'app:x', mysqlOrderWrites: true }, { tcpcopy1: false, socket: true }),
    /--mysql-order-writes: the socket transport replays each connection on its own/,
  );
});
