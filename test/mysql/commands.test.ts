// Client commands: the statement id of the five statement commands (read and replaced in a copy),
// and which commands count as session state for a rebuilt session, over the SQL shapes that make
// the leading-keyword check hard (comments, executable comments, quotes, batches, one-shot SETs).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  COM_INIT_DB,
  COM_PING,
  COM_QUERY,
  COM_RESET_CONNECTION,
  COM_SET_OPTION,
  COM_STMT_CLOSE,
  COM_STMT_EXECUTE,
  COM_STMT_FETCH,
  COM_STMT_PREPARE,
  COM_STMT_RESET,
  COM_STMT_SEND_LONG_DATA,
  sessionStateOf,
  statementIdOf,
  withStatementId,
} from '../../src/mysql/index.js';

const cmd = (c: number, body: string) => Buffer.concat([Buffer.from([c]), Buffer.from(body.replace(/ /g, ''), 'hex')]);
const query = (sql: string) => Buffer.concat([Buffer.from([COM_QUERY]), Buffer.from(sql, 'utf8')]);

describe('statement ids', () => {
  test('the five statement commands carry a u32 at offset 1', () => {
    for (const c of [COM_STMT_EXECUTE, COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE, COM_STMT_RESET, COM_STMT_FETCH]) {
      assert.equal(statementIdOf(cmd(c, '2a000001 00 01000000')), 0x0100002a, `0x${c.toString(16)}`);
    }
  });

  test('other commands and short packets have none', () => {
    assert.equal(statementIdOf(cmd(COM_STMT_PREPARE, '53454c454354')), null);
    assert.equal(statementIdOf(cmd(COM_QUERY, '0100000000')), null);
    assert.equal(statementIdOf(cmd(COM_STMT_CLOSE, '010000')), null);
    assert.equal(statementIdOf(Buffer.alloc(0)), null);
  });

  test('withStatementId replaces the id in a copy of the same length', () => {
    const original = cmd(COM_STMT_EXECUTE, '01000000 00 01000000 0000');
    const copy = withStatementId(original, 0xfedcba98);
    assert.equal(copy.toString('hex'), '1798badcfe00010000000000');
    assert.equal(original.toString('hex'), '170100000000010000000000');
    assert.throws(() => withStatementId(cmd(COM_PING, ''), 1), RangeError);
  });
});

describe('sessionStateOf', () => {
  test('COM_INIT_DB, COM_SET_OPTION, COM_RESET_CONNECTION', () => {
    assert.deepEqual(sessionStateOf(cmd(COM_INIT_DB, '73686f70')), { kind: 'init-db', database: Buffer.from('shop') });
    assert.deepEqual(sessionStateOf(cmd(COM_SET_OPTION, '0100')), { kind: 'set-option', option: 1 });
    assert.equal(sessionStateOf(cmd(COM_SET_OPTION, '01')), null);
    assert.deepEqual(sessionStateOf(cmd(COM_RESET_CONNECTION, '')), { kind: 'reset' });
    assert.equal(sessionStateOf(cmd(COM_PING, '')), null);
    assert.equal(sessionStateOf(Buffer.alloc(0)), null);
  });

  const cases: Array<[string, string | null]> = [
    ['USE shop', 'use'],
    ['use `my db`;', 'use'],
    ['  \n\tSET NAMES utf8mb4', 'set'],
    ['set autocommit=0', 'set'],
    ['SET SESSION sql_mode = "ANSI"', 'set'],
    ['SET @@session.wait_timeout = 60', 'set'],
    ['SET @a := 1', 'set'],
    ['SET CHARACTER SET utf8', 'set'],
    ['SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', 'set'],
    ['SET ROLE app', 'set'],
    ['SET transaction_isolation = "READ-COMMITTED"', 'set'],
    ['/* app:42 */ SET sql_mode=""', 'set'],
    ['-- note\nUSE shop', 'use'],
    ['# note\r\nSET x = 1', 'set'],
    ['/*!40101 SET NAMES utf8 */', 'set'],
    ['/*M!100100 SET @x = 1 */;', 'set'],
    ['SET @s = \'a;b\', @t = "c\\";d"', 'set'],
    ["SET @s = 'it''s; fine'", 'set'],
    ['SET @x = 1; -- done', 'set'],
    ['SET @x = 1;;  /* more */ ', 'set'],
    // One-shot or not about the session:
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', null],
    ['SET GLOBAL max_connections = 10', null],
    ['SET @@global.max_connections = 10', null],
    ['SET @@GLOBAL.sql_mode = ""', null],
    ["SET PASSWORD = PASSWORD('x')", null],
    ['SET DEFAULT ROLE app FOR bob', null],
    ['SET STATEMENT max_statement_time=1 FOR SELECT 1', null],
    ['SET PERSIST max_connections = 10', null],
    // Batches would repeat their other statements:
    ['SET NAMES utf8; SELECT 1', null],
    ['USE a;USE b', null],
    // Not USE or SET:
    ['SELECT 1', null],
    ['USER()', null],
    ['SETTINGS', null],
    ['--comment without space\nSET x=1', null],
    ['/* SET x = 1 */ SELECT 1', null],
    ['', null],
  ];
  for (const [sql, kind] of cases) {
    test(`${JSON.stringify(sql)} -> ${kind}`, () => {
      const got = sessionStateOf(query(sql));
      assert.equal(got === null ? null : got.kind, kind);
    });
  }
});
