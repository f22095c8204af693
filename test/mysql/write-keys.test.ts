// Row keys of writes (src/mysql/write-keys.ts), what the MySQL mode's write order compares: the
// table and the row named by UPDATE/DELETE ... WHERE col = v and by a one-row INSERT/REPLACE, with
// placeholders bound from a COM_STMT_EXECUTE's binary parameters; anything it cannot read conflicts
// with its whole table or with everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANY_ROW,
  bindRow,
  commandWrites,
  executeParam,
  mayConflict,
  placeholderCount,
  statementWrites,
  writeTargetOf,
} from '../../src/mysql/index.js';

void test('statementWrites: row-changing verbs and locking reads, after comments', () => {
  for (const sql of [
    'UPDATE t SET a=1',
    '  /* x */ delete from t where id=1',
    'INSERT INTO t VALUES (1)',
    'replace into t values (1)',
    'SELECT * FROM t WHERE id=1 FOR UPDATE',
    'select a from t lock in share mode',
    'CREATE TABLE x (a int)',
  ])
    assert.equal(statementWrites(sql), true, sql);
  for (const sql of ['SELECT 1', 'BEGIN', 'COMMIT', 'SET autocommit=0', 'SHOW TABLES', ''])
    assert.equal(statementWrites(sql), false, sql);
  // The locking clause is looked for in the text as a whole: inside a string it counts too (the safe side).
  assert.equal(statementWrites("SELECT 'FOR UPDATE x'"), true);
  assert.equal(commandWrites(Buffer.from('\x03UPDATE t SET a=1', 'latin1')), true);
  assert.equal(commandWrites(Buffer.from('\x03SELECT 1', 'latin1')), false);
  assert.equal(commandWrites(Buffer.from([0x17, 1, 0, 0, 0])), null, 'an execute: known by its statement only');
  assert.equal(commandWrites(Buffer.from('\x16UPDATE t SET a=?', 'latin1')), false, 'preparing writes nothing');
});

void test('writeTargetOf: table and row of sysbench-like writes, placeholders numbered', () => {
  const cases: Array<[string, string | null, string | null]> = [
    ['UPDATE sbtest1 SET k=k+1 WHERE id=5012', 'sbtest1', 'id=5012'],
    ["UPDATE `SbTest3` SET c='a''b' WHERE id = 77 AND k > 2", 'sbtest3', 'id=77'],
    ['UPDATE low_priority t SET c=? WHERE id=?', 't', 'id=?1'],
    ['DELETE FROM sbtest1 WHERE id=-4', 'sbtest1', 'id=-4'],
    ["DELETE FROM db.t WHERE name='x y'", 'db.t', 'name=x y'],
    ["INSERT INTO sbtest1 (id, k, c, pad) VALUES (5012, 5025, 'a,b', 'c')", 'sbtest1', 'id=5012'],
    ['INSERT INTO t (id, k) VALUES (?, ?)', 't', 'id=?0'],
    ['REPLACE INTO t (id) VALUE (3)', 't', 'id=3'],
    // Several rows, no column list, OR, no WHERE, INSERT ... SELECT: the whole table.
    ['INSERT INTO t (id) VALUES (1), (2)', 't', null],
    ['INSERT INTO t VALUES (1, 2)', 't', null],
    ['UPDATE t SET a=1 WHERE id=1 OR id=2', 't', null],
    ['DELETE FROM t', 't', null],
    ['INSERT INTO t (id) SELECT id FROM u', 't', null],
    ['UPDATE t SET a=1 WHERE id>3', 't', null],
    // Several tables: anything.
    ['UPDATE t, u SET t.a=u.a WHERE t.id=u.id', null, null],
    ['DELETE FROM t USING t JOIN u WHERE t.id=1', null, null],
    ['CREATE TABLE x (a int)', null, null],
  ];
  for (const [sql, table, row] of cases) assert.deepEqual(writeTargetOf(sql), { table, row }, sql);
  assert.equal(placeholderCount("UPDATE t SET c=?, d='?' WHERE id=? -- ?"), 2);
});

void test('mayConflict: other tables never; other values of one column never; anything unknown always', () => {
  const r = (table: string | null, row: string | null) => ({ table, row });
  assert.equal(mayConflict(r('t', 'id=1'), r('t', 'id=1')), true);
  assert.equal(mayConflict(r('t', 'id=1'), r('t', 'id=2')), false);
  assert.equal(mayConflict(r('t', 'id=1'), r('u', 'id=1')), false);
  assert.equal(mayConflict(r('t', 'id=1'), r('t', 'k=1')), true, 'another column may name the same row');
  assert.equal(mayConflict(r('t', 'id=1'), r('t', null)), true);
  assert.equal(mayConflict(ANY_ROW, r('u', 'id=9')), true);
  assert.equal(mayConflict(r('u', 'id=9'), ANY_ROW), true);
});

/** A COM_STMT_EXECUTE payload: id 7, no cursor, one iteration, the null bitmap, types when bound, values. */
function execute(nulls: number[], types: number[] | null, values: Buffer[]): Buffer {
  const n = nulls.length;
  const bitmap = Buffer.alloc((n + 7) >> 3);
  nulls.forEach((isNull, i) => {
    if (isNull) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  const head = Buffer.from([0x17, 7, 0, 0, 0, 0, 1, 0, 0, 0]);
  const bound = types === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), Buffer.from(types)]);
  return Buffer.concat([head, bitmap, bound, ...values]);
}

void test('executeParam: values by type (strings length-prefixed, ints signed or not), NULLs, types kept from the last binding', () => {
  const str = Buffer.concat([Buffer.from([5]), Buffer.from('hello')]);
  const long = Buffer.alloc(4);
  long.writeInt32LE(-12);
  // c = ? (VAR_STRING 253), id = ? (LONG 3)
  const p = execute([0, 0], [253, 0, 3, 0], [str, long]);
  const first = executeParam(p, 2, 1, null);
  assert.equal(first.value, '-12');
  assert.equal(executeParam(p, 2, 0, null).value, 'hello');
  // The next execution binds nothing new: the types come from the one before.
  const again = execute([0, 0], null, [str, Buffer.from([9, 0, 0, 0])]);
  assert.equal(executeParam(again, 2, 1, first.types).value, '9');
  assert.equal(executeParam(again, 2, 1, null).value, null, 'no types known: unknown');
  // Unsigned LONGLONG (8 | 0x80 flag), a NULL before it, TINY.
  const big = Buffer.alloc(8);
  big.writeBigUInt64LE(18446744073709551615n);
  const q = execute([1, 0, 0], [3, 0, 8, 0x80, 1, 0], [big, Buffer.from([0xff])]);
  assert.equal(executeParam(q, 3, 0, null).value, null, 'NULL');
  assert.equal(executeParam(q, 3, 1, null).value, '18446744073709551615');
  assert.equal(executeParam(q, 3, 2, null).value, '-1');
  // Cut short (only the first bytes of a long command were read): unknown, never a throw.
  assert.equal(executeParam(p.subarray(0, p.length - 2), 2, 1, null).value, null);
  assert.equal(executeParam(Buffer.from([0x17, 7]), 2, 1, null).value, null);
});

void test('bindRow: a placeholder row gets the executed value; an unknown value leaves the table only', () => {
  const t = writeTargetOf('UPDATE t SET c=? WHERE id=?');
  assert.deepEqual(
    bindRow(t, (i) => (i === 1 ? '42' : 'x')),
    { table: 't', row: 'id=42' },
  );
  assert.deepEqual(
    bindRow(t, () => null),
    { table: 't', row: null },
  );
  assert.deepEqual(
    bindRow(writeTargetOf('DELETE FROM t WHERE id=3'), () => '9'),
    { table: 't', row: 'id=3' },
  );
});
