// Server replies by context: the same first byte is an auth switch during login, an EOF or an OK
// at the end of rows (CLIENT_DEPRECATE_EOF decides, by length), or the start of a row. Exact field
// values from hand-made packets; real ones are in test/mysql/real-exchanges.test.ts.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT_DEPRECATE_EOF,
  CLIENT_PROTOCOL_41,
  MysqlProtocolError,
  parseAuthReply,
  parseCommandReply,
  parseErr,
  parsePrepareOk,
  parseResultStreamPacket,
} from '../../src/mysql/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const rejects = (code: string) => (e: unknown) => e instanceof MysqlProtocolError && e.code === code;

describe('parseAuthReply', () => {
  test('OK with info', () => {
    assert.deepEqual(parseAuthReply(hex(`00 00 00 0240 0000 ${text('hi')}`)), {
      kind: 'ok',
      affectedRows: 0,
      lastInsertId: 0,
      status: 0x4002,
      warnings: 0,
      info: Buffer.from('hi'),
    });
  });

  test('ERR with and without SQLSTATE', () => {
    assert.deepEqual(parseAuthReply(hex(`ff 1504 23 ${text('28000')} ${text('Access denied')}`)), {
      kind: 'err',
      code: 1045,
      sqlState: '28000',
      message: 'Access denied',
    });
    assert.deepEqual(parseAuthReply(hex(`ff 1004 ${text('Too many connections')}`)), {
      kind: 'err',
      code: 1040,
      sqlState: null,
      message: 'Too many connections',
    });
  });

  test('AuthSwitchRequest: plugin name and the nonce as sent (native adds a NUL)', () => {
    const r = parseAuthReply(hex(`fe ${text('mysql_native_password')}00 ${'61'.repeat(20)} 00`));
    assert.equal(r.kind, 'auth-switch');
    assert.equal(r.kind === 'auth-switch' && r.plugin, 'mysql_native_password');
    assert.equal(r.kind === 'auth-switch' && r.data.length, 21);
  });

  test('the bare 0xfe of a pre-4.1 server asks for mysql_old_password', () => {
    assert.deepEqual(parseAuthReply(hex('fe')), {
      kind: 'auth-switch',
      plugin: 'mysql_old_password',
      data: Buffer.alloc(0),
    });
  });

  test('AuthMoreData carries the rest of the packet', () => {
    assert.deepEqual(parseAuthReply(hex('01 04')), { kind: 'auth-more-data', data: hex('04') });
  });

  test('anything else is MALFORMED, nothing is TRUNCATED, a cut OK is TRUNCATED', () => {
    assert.throws(() => parseAuthReply(hex('05 00')), rejects('MALFORMED'));
    assert.throws(() => parseAuthReply(Buffer.alloc(0)), rejects('TRUNCATED'));
    assert.throws(() => parseAuthReply(hex('00 00 00 02')), rejects('TRUNCATED'));
    // A progress report cannot answer a login.
    assert.throws(() => parseAuthReply(hex('ff ffff 01')), rejects('MALFORMED'));
  });
});

describe('parseCommandReply', () => {
  test('OK with 3-byte and 9-byte length-encoded counts', () => {
    const r = parseCommandReply(hex('00 fc2c01 fe0000000001000000 2200 0100'));
    assert.deepEqual(r, {
      kind: 'ok',
      affectedRows: 300,
      lastInsertId: 2 ** 32,
      status: 0x22,
      warnings: 1,
      info: Buffer.alloc(0),
    });
  });

  test('a result set header gives the column count', () => {
    assert.deepEqual(parseCommandReply(hex('02')), { kind: 'result-set', columns: 2 });
    assert.deepEqual(parseCommandReply(hex('fc 0001')), { kind: 'result-set', columns: 256 });
    assert.throws(() => parseCommandReply(hex('02 0000')), rejects('MALFORMED'));
  });

  test('LOAD DATA LOCAL request and MariaDB progress report', () => {
    assert.deepEqual(parseCommandReply(hex(`fb ${text('/tmp/x.csv')}`)), {
      kind: 'local-infile',
      filename: Buffer.from('/tmp/x.csv'),
    });
    assert.deepEqual(parseCommandReply(hex('ff ffff 01 02')), { kind: 'progress', data: hex('0102') });
  });
});

describe('parseResultStreamPacket', () => {
  const classic = CLIENT_PROTOCOL_41;
  const deprecate = CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF;
  const kind = (p: string, caps: number) => parseResultStreamPacket(hex(p), caps).kind;

  test('without CLIENT_DEPRECATE_EOF: 0xfe under 9 bytes is an EOF, longer is a row', () => {
    assert.deepEqual(parseResultStreamPacket(hex('fe 0100 2200'), classic), { kind: 'eof', warnings: 1, status: 0x22 });
    assert.equal(kind('fe 0000 0200 0000', classic), 'eof');
    assert.equal(kind('fe 0000000001000000 41', classic), 'row');
  });

  test('with CLIENT_DEPRECATE_EOF: a 0xfe packet of 7 bytes or more is the closing OK', () => {
    assert.deepEqual(parseResultStreamPacket(hex('fe 00 00 2200 0000'), deprecate), {
      kind: 'ok',
      affectedRows: 0,
      lastInsertId: 0,
      status: 0x22,
      warnings: 0,
      info: Buffer.alloc(0),
    });
    // Longer than an EOF could be (session-state info after it): still the OK, not a row.
    assert.equal(kind(`fe 00 00 0240 0000 ${'00'.repeat(20)}`, deprecate), 'ok');
    // Too short for an OK: an EOF from a server that ignores the flag.
    assert.equal(kind('fe 0000 0200', deprecate), 'eof');
  });

  test('rows, binary rows (0x00) and errors', () => {
    assert.equal(kind('01 31', classic), 'row');
    assert.equal(kind('00 00 01000000', deprecate), 'row');
    assert.equal(kind(`ff 2804 23${text('HY000')}${text('boom')}`, deprecate), 'err');
  });
});

describe('parseErr and parsePrepareOk', () => {
  test('an ERR whose message starts with # but is too short for an SQLSTATE keeps it in the message', () => {
    assert.deepEqual(parseErr(hex(`ff 0100 ${text('#ab')}`)), { kind: 'err', code: 1, sqlState: null, message: '#ab' });
  });

  test('prepare OK: 12 bytes, and the 9-byte form of 4.1 servers', () => {
    assert.deepEqual(parsePrepareOk(hex('00 07000000 0100 0200 00 0300')), {
      statementId: 7,
      columns: 1,
      params: 2,
      warnings: 3,
    });
    assert.deepEqual(parsePrepareOk(hex('00 ffffffff 0000 0000')), {
      statementId: 0xffffffff,
      columns: 0,
      params: 0,
      warnings: 0,
    });
    assert.throws(() => parsePrepareOk(hex('ff 1504')), rejects('MALFORMED'));
    assert.throws(() => parsePrepareOk(hex('00 0700')), rejects('TRUNCATED'));
  });
});
