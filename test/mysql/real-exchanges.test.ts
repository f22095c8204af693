// The codec on what the official MariaDB client and server really sent (test/mysql/real-exchanges.ts):
// every login re-encodes byte for byte, the greeting's fields are what the server announced, our
// native and ed25519 responses equal the client's for the same nonces, and the replies parse to
// the OK, auth switch, ERR and result set that happened.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CLIENT_CONNECT_ATTRS,
  CLIENT_CONNECT_WITH_DB,
  CLIENT_DEPRECATE_EOF,
  CLIENT_MYSQL,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
  clientEd25519,
  ed25519PublicKey,
  encodeLogin,
  encodePacket,
  MysqlPacketReader,
  nativePassword,
  parseAuthReply,
  parseCommandReply,
  parseConnectAttrs,
  parseGreeting,
  parseLogin,
  parseResultStreamPacket,
} from '../../src/mysql/index.js';
import type { MysqlPacket } from '../../src/mysql/index.js';
import {
  ED25519_LOGIN,
  ED25519_STORED_KEY,
  NATIVE_LOGIN,
  NATIVE_STORED_HASH,
  WITH_DATABASE,
  WRONG_PASSWORD,
} from './real-exchanges.js';
import type { Chunk } from './real-exchanges.js';

/** The exchange framed per direction, in the order the packets completed. */
function packets(chunks: readonly Chunk[]): Array<['c' | 's', MysqlPacket]> {
  const readers = { c: new MysqlPacketReader(), s: new MysqlPacketReader() };
  const out: Array<['c' | 's', MysqlPacket]> = [];
  for (const [dir, hex] of chunks) for (const p of readers[dir].push(Buffer.from(hex, 'hex'))) out.push([dir, p]);
  return out;
}

const ALL = { NATIVE_LOGIN, ED25519_LOGIN, WRONG_PASSWORD, WITH_DATABASE };

describe('captured MariaDB logins', () => {
  test('every chunk was one whole packet, sequence ids as the protocol counts them', () => {
    for (const [name, chunks] of Object.entries(ALL)) {
      const ps = packets(chunks);
      const seqs = ps.map(([, p]) => p.seq);
      assert.ok(ps.length >= chunks.length, name);
      assert.deepEqual(seqs.slice(0, 3), [0, 1, 2], name);
      for (const [dir, p] of ps) assert.ok(encodePacket(p.seq, p.payload).length === p.wireLength, `${name} ${dir}`);
    }
  });

  test('the greeting: MariaDB 10.11, 20-byte scramble, extended capabilities, native default plugin', () => {
    const g = parseGreeting(packets(NATIVE_LOGIN)[0]![1].payload);
    assert.equal(g.serverVersion, '5.5.5-10.11.19-MariaDB-0+deb12u1');
    assert.equal(g.connectionId, 4);
    assert.equal(g.scramble.toString('latin1'), 'Of6wwqR%](M+-A>RcyZ5');
    assert.equal(g.capabilities, 0x81fff7fe);
    assert.equal(g.capabilities & CLIENT_MYSQL, 0);
    assert.equal(g.extendedCapabilities, 0x1d);
    assert.equal(g.charset, 8);
    assert.equal(g.status, 2);
    assert.equal(g.authPlugin, 'mysql_native_password');
  });

  test('each login parses to its fields and re-encodes byte for byte', () => {
    for (const [name, chunks] of Object.entries(ALL)) {
      const payload = packets(chunks)[1]![1].payload;
      const login = parseLogin(payload);
      assert.ok(encodeLogin(login).equals(payload), name);
      assert.equal(login.extendedCapabilities, 0x1d, name);
      assert.equal(login.authPlugin, 'mysql_native_password', name);
      assert.equal(login.authResponse.length, 20, name);
      assert.equal(login.trailing.length, 0, name);
      assert.ok(login.capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, name);
      assert.ok(login.capabilities & CLIENT_CONNECT_ATTRS, name);
      assert.equal(login.capabilities & CLIENT_DEPRECATE_EOF, 0, name);
    }
    const withDb = parseLogin(packets(WITH_DATABASE)[1]![1].payload);
    assert.ok(withDb.capabilities & CLIENT_CONNECT_WITH_DB);
    assert.equal(withDb.database?.toString(), 'mysql');
    assert.equal(withDb.user.toString(), 'nat');
    const attrs = new Map(parseConnectAttrs(withDb.connectAttrs!));
    assert.equal(attrs.get('_client_name'), 'libmariadb');
    assert.equal(attrs.get('program_name'), 'mysql');
  });

  test("nativePassword gives the client's response for the greeting's scramble", () => {
    for (const [chunks, pw] of [
      [NATIVE_LOGIN, 'natpw'],
      [WRONG_PASSWORD, 'wrong'],
      [WITH_DATABASE, 'natpw'],
    ] as const) {
      const ps = packets(chunks);
      const g = parseGreeting(ps[0]![1].payload);
      assert.ok(nativePassword(pw, g.scramble).equals(parseLogin(ps[1]![1].payload).authResponse), pw);
    }
    const stored = createHash('sha1').update(createHash('sha1').update('natpw').digest()).digest('hex');
    assert.equal(`*${stored.toUpperCase()}`, NATIVE_STORED_HASH);
  });

  test("the ed25519 user: auth switch to client_ed25519, and our signature is the client's", () => {
    const ps = packets(ED25519_LOGIN);
    const sw = parseAuthReply(ps[2]![1].payload);
    assert.equal(sw.kind, 'auth-switch');
    if (sw.kind !== 'auth-switch') return;
    assert.equal(sw.plugin, 'client_ed25519');
    assert.equal(sw.data.length, 32);
    assert.equal(ps[2]![1].seq, 2);
    const [dir, answer] = ps[3]!;
    assert.equal(dir, 'c');
    assert.equal(answer.seq, 3);
    assert.ok(clientEd25519('edpw-long password!', sw.data).equals(answer.payload));
    assert.equal(ed25519PublicKey('edpw-long password!').toString('base64').replace(/=+$/, ''), ED25519_STORED_KEY);
    assert.equal(parseAuthReply(ps[4]![1].payload).kind, 'ok');
  });

  test('ERR 1045 for the wrong password and 1044 for a database without grant', () => {
    assert.deepEqual(parseAuthReply(packets(WRONG_PASSWORD)[2]![1].payload), {
      kind: 'err',
      code: 1045,
      sqlState: '28000',
      message: "Access denied for user 'nat'@'localhost' (using password: YES)",
    });
    assert.deepEqual(parseAuthReply(packets(WITH_DATABASE)[2]![1].payload), {
      kind: 'err',
      code: 1044,
      sqlState: '42000',
      message: "Access denied for user 'nat'@'%' to database 'mysql'",
    });
  });

  test('select 1: a one-column result set, EOF after the column, the row, EOF', () => {
    const ps = packets(NATIVE_LOGIN);
    assert.deepEqual(parseAuthReply(ps[2]![1].payload), {
      kind: 'ok',
      affectedRows: 0,
      lastInsertId: 0,
      status: 2,
      warnings: 0,
      info: Buffer.alloc(0),
    });
    assert.equal(ps[3]![1].payload.toString('latin1'), '\x03select 1');
    assert.deepEqual(parseCommandReply(ps[4]![1].payload), { kind: 'result-set', columns: 1 });
    const caps = parseLogin(ps[1]![1].payload).capabilities;
    const rest = ps.slice(6, 9).map(([, p]) => parseResultStreamPacket(p.payload, caps).kind);
    assert.deepEqual(rest, ['eof', 'row', 'eof']);
    assert.equal(ps[7]![1].payload.toString('hex'), '0131');
    assert.equal(ps[9]![1].payload.toString('hex'), '01');
  });

  test('a re-signed login differs from the captured one only in the 20 response bytes', () => {
    const ps = packets(NATIVE_LOGIN);
    const payload = ps[1]![1].payload;
    const login = parseLogin(payload);
    const fresh = nativePassword('target-password', Buffer.alloc(20, 0x61));
    const out = encodeLogin({ ...login, authResponse: fresh });
    assert.equal(out.length, payload.length);
    const at = payload.indexOf(login.authResponse);
    assert.equal(at, 32 + 4 + 1);
    assert.ok(out.subarray(0, at).equals(payload.subarray(0, at)));
    assert.ok(out.subarray(at, at + 20).equals(fresh));
    assert.ok(out.subarray(at + 20).equals(payload.subarray(at + 20)));
  });
});
