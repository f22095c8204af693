// The greeting and login codecs on hand-made packets for the shapes the captured MariaDB client
// does not send (MySQL greetings, other auth-response encodings, missing fields, a MySQL 8 trailer),
// and two properties: a login encodes and parses back to the same fields, and any bytes parseLogin
// accepts re-encode byte for byte (what replaying a captured login with one field changed relies on).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CLIENT_CONNECT_ATTRS,
  CLIENT_CONNECT_WITH_DB,
  CLIENT_PLUGIN_AUTH,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
  CLIENT_PROTOCOL_41,
  CLIENT_SECURE_CONNECTION,
  CLIENT_SSL,
  encodeLogin,
  isSslRequest,
  MysqlProtocolError,
  parseGreeting,
  parseLogin,
} from '../../src/mysql/index.js';
import type { Login } from '../../src/mysql/index.js';
import { NATIVE_LOGIN } from './real-exchanges.js';

const rejects = (code: string) => (e: unknown) => e instanceof MysqlProtocolError && e.code === code;
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const z = (n: number) => '00'.repeat(n);
const text = (s: string) => Buffer.from(s, 'latin1').toString('hex');

describe('parseGreeting', () => {
  test('a MySQL 8 greeting: CLIENT_MYSQL set, so the reserved bytes are not MariaDB capabilities', () => {
    const g = parseGreeting(
      hex(
        `0a ${text('8.0.36')}00 07000000 0102030405060708 00 ffff ff 0200 ffdf 15 ${z(6)} 09090909` +
          `${text('abcdefghijkl')}00 ${text('caching_sha2_password')}00`,
      ),
    );
    assert.equal(g.serverVersion, '8.0.36');
    assert.equal(g.connectionId, 7);
    assert.equal(g.scramble.toString('hex'), '0102030405060708' + text('abcdefghijkl'));
    assert.equal(g.capabilities, 0xdfffffff);
    assert.equal(g.extendedCapabilities, 0);
    assert.equal(g.charset, 0xff);
    assert.equal(g.status, 2);
    assert.equal(g.authPlugin, 'caching_sha2_password');
  });

  test('a longer second scramble part (auth data length 33) is read whole', () => {
    const g = parseGreeting(
      hex(`0a 7800 01000000 ${'11'.repeat(8)} 00 fef7 08 0200 0880 21 ${z(6)} 1d000000 ${'22'.repeat(24)} 00 7800`),
    );
    assert.equal(g.scramble.toString('hex'), '11'.repeat(8) + '22'.repeat(24));
    assert.equal(g.extendedCapabilities, 0x1d);
    assert.equal(g.authPlugin, 'x');
  });

  test('without CLIENT_PLUGIN_AUTH the second part is 12 bytes and there is no plugin name', () => {
    const g = parseGreeting(
      hex(`0a 3500 02000000 ${'33'.repeat(8)} 00 0182 08 0200 0000 00 ${z(10)} ${'44'.repeat(12)} 00`),
    );
    assert.equal(g.scramble.length, 20);
    assert.equal(g.authPlugin, null);
    assert.equal(g.capabilities, 0x8201);
  });

  test('a 4.0-era greeting that stops after the lower capabilities has an 8-byte scramble', () => {
    const g = parseGreeting(hex(`0a 3400 03000000 ${'55'.repeat(8)} 00 2c00`));
    assert.equal(g.scramble.toString('hex'), '55'.repeat(8));
    assert.equal(g.capabilities, 0x2c);
  });

  test('refusals: an ERR packet, protocol 9, a cut greeting', () => {
    assert.throws(() => parseGreeting(hex(`ff 1004 ${text('Too many connections')}`)), rejects('MALFORMED'));
    assert.throws(() => parseGreeting(hex(`09 ${text('3.23')}00`)), rejects('UNSUPPORTED'));
    assert.throws(() => parseGreeting(hex(`0a ${text('10.11')}00 0100`)), rejects('TRUNCATED'));
  });
});

/** The 32 fixed bytes of a login: capabilities, max packet 16 MiB, charset 33, filler with MariaDB caps 0x1d. */
function head(caps: number): string {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(caps >>> 0, 0);
  b.writeUInt32LE(0x1000000, 4);
  b[8] = 33;
  b.writeUInt32LE(0x1d, 28);
  return b.toString('hex');
}

const BASE = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;

describe('parseLogin and encodeLogin', () => {
  test('length-encoded auth response, database, plugin, attributes', () => {
    const caps =
      BASE | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CONNECT_WITH_DB | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS;
    const bytes = hex(
      `${head(caps)} ${text('bob')}00 03 aabbcc ${text('shop')}00 ${text('client_ed25519')}00 06 01${text('k')}03${text('val')}`,
    );
    const login = parseLogin(bytes);
    assert.equal(login.capabilities, caps);
    assert.equal(login.maxPacketSize, 0x1000000);
    assert.equal(login.charset, 33);
    assert.equal(login.extendedCapabilities, 0x1d);
    assert.equal(login.user.toString(), 'bob');
    assert.equal(login.authResponse.toString('hex'), 'aabbcc');
    assert.equal(login.database?.toString(), 'shop');
    assert.equal(login.authPlugin, 'client_ed25519');
    assert.equal(login.connectAttrs?.toString('hex'), '016b0376616c');
    assert.equal(login.trailing.length, 0);
    assert.ok(encodeLogin(login).equals(bytes));

    // A 64-byte signature in place of the 3 bytes: only the length and the bytes change.
    const sig = Buffer.alloc(300, 0x5a);
    const changed = encodeLogin({ ...login, authResponse: sig });
    assert.equal(changed.length, bytes.length - 3 + 300 + 2);
    assert.equal(changed.subarray(36, 39).toString('hex'), 'fc2c01');
    assert.ok(parseLogin(changed).authResponse.equals(sig));
  });

  test('1-byte auth length (CLIENT_SECURE_CONNECTION only): up to 255 bytes, more is refused', () => {
    const bytes = hex(`${head(BASE)} ${text('u')}00 02 0102`);
    const login = parseLogin(bytes);
    assert.equal(login.authResponse.toString('hex'), '0102');
    assert.ok(encodeLogin(login).equals(bytes));
    assert.equal(encodeLogin({ ...login, authResponse: Buffer.alloc(255) }).length, 32 + 2 + 1 + 255);
    assert.throws(() => encodeLogin({ ...login, authResponse: Buffer.alloc(256) }), rejects('MALFORMED'));
  });

  test('NUL-terminated auth response (no CLIENT_SECURE_CONNECTION)', () => {
    const bytes = hex(
      `${head(CLIENT_PROTOCOL_41 | CLIENT_CONNECT_WITH_DB)} ${text('u')}00 ${text('oldhash1')}00 ${text('db')}00`,
    );
    const login = parseLogin(bytes);
    assert.equal(login.authResponse.toString(), 'oldhash1');
    assert.equal(login.database?.toString(), 'db');
    assert.ok(encodeLogin(login).equals(bytes));
  });

  test('a last string without its NUL, and a MySQL 8 trailer after the attributes, are kept', () => {
    const caps = BASE | CLIENT_PLUGIN_AUTH;
    const cut = hex(`${head(caps)} ${text('u')}00 00 ${text('mysql_native_password')}`);
    const login = parseLogin(cut);
    assert.equal(login.authPlugin, 'mysql_native_password');
    assert.equal(login.unterminatedLast, true);
    assert.ok(encodeLogin(login).equals(cut));

    const zstd = hex(`${head(BASE | CLIENT_CONNECT_ATTRS | 0x4000000)} ${text('u')}00 00 00 03`);
    const withLevel = parseLogin(zstd);
    assert.equal(withLevel.connectAttrs?.length, 0);
    assert.equal(withLevel.trailing.toString('hex'), '03');
    assert.ok(encodeLogin(withLevel).equals(zstd));
  });

  test('flags set but the packet ends: the fields are null, and encode the same', () => {
    const caps = BASE | CLIENT_CONNECT_WITH_DB | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS;
    const bytes = hex(`${head(caps)} ${text('u')}00 00`);
    const login = parseLogin(bytes);
    assert.deepEqual([login.database, login.authPlugin, login.connectAttrs], [null, null, null]);
    assert.ok(encodeLogin(login).equals(bytes));
    // A plugin name after a missing database has no place in the format.
    assert.throws(() => encodeLogin({ ...login, authPlugin: 'x' }), rejects('MALFORMED'));
    // A field whose capability is clear cannot be written either.
    assert.throws(
      () => encodeLogin({ ...login, capabilities: BASE, database: Buffer.from('d') }),
      rejects('MALFORMED'),
    );
  });

  test('a new user and database re-encode around the same auth response', () => {
    const caps = BASE | CLIENT_CONNECT_WITH_DB;
    const login = parseLogin(hex(`${head(caps)} ${text('u')}00 01 ee ${text('a')}00`));
    const out = encodeLogin({ ...login, user: Buffer.from('replay'), database: Buffer.from('shop_test') });
    assert.equal(
      out.subarray(32).toString('hex'),
      `${text('replay')}00 01 ee ${text('shop_test')}00`.replace(/ /g, ''),
    );
    assert.throws(() => encodeLogin({ ...login, user: Buffer.from('a\0b') }), rejects('MALFORMED'));
  });

  test('SSLRequest: detected, and parseLogin refuses it', () => {
    const ssl = hex(head(BASE | CLIENT_SSL));
    assert.equal(isSslRequest(ssl), true);
    assert.equal(isSslRequest(hex(head(BASE))), false);
    assert.equal(isSslRequest(hex(`${head(BASE | CLIENT_SSL)} 00`)), false);
    assert.throws(() => parseLogin(ssl), rejects('UNSUPPORTED'));
  });

  test('HandshakeResponse320 (no CLIENT_PROTOCOL_41) is refused as UNSUPPORTED', () => {
    assert.throws(() => parseLogin(hex(`8581 ffffff ${text('bob')}00 ${text('12345678')}`)), rejects('UNSUPPORTED'));
  });

  test('cut and malformed logins', () => {
    assert.throws(() => parseLogin(hex(`${head(BASE)} ${text('u')}`)), rejects('TRUNCATED'));
    assert.throws(() => parseLogin(hex(`${head(BASE)} ${text('u')}00 05 0102`)), rejects('TRUNCATED'));
    const lenenc = BASE | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
    // 0xfc with a value below 251 is a longer form than needed: refused, it could not re-encode the same.
    assert.throws(() => parseLogin(hex(`${head(lenenc)} ${text('u')}00 fc0200 0102`)), rejects('MALFORMED'));
    assert.throws(() => parseLogin(hex(`${head(lenenc)} ${text('u')}00 fb`)), rejects('MALFORMED'));
  });
});

const FLAG_CHOICES = [
  CLIENT_SECURE_CONNECTION,
  CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
  CLIENT_CONNECT_WITH_DB,
  CLIENT_PLUGIN_AUTH,
  CLIENT_CONNECT_ATTRS,
];
const noNul = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a.filter((b) => b !== 0)));

/** Logins a client could send: fields consistent with the flags, no field after a missing one. */
const loginArb: fc.Arbitrary<Login> = fc
  .record({
    flags: fc.subarray(FLAG_CHOICES),
    otherBits: fc.integer({ min: 0, max: 0xffffffff }),
    maxPacketSize: fc.integer({ min: 0, max: 0xffffffff }),
    charset: fc.integer({ min: 0, max: 255 }),
    reserved: fc.uint8Array({ minLength: 19, maxLength: 19 }),
    extendedCapabilities: fc.integer({ min: 0, max: 0xffffffff }),
    user: noNul,
    auth: fc.uint8Array({ maxLength: 300 }),
    database: fc.option(noNul),
    plugin: fc.option(noNul.map((b) => b.toString('latin1'))),
    attrs: fc.option(fc.uint8Array({ maxLength: 300 })),
    unterminated: fc.boolean(),
    trailing: fc.uint8Array({ maxLength: 3 }),
  })
  .map((r): Login => {
    const known = FLAG_CHOICES.reduce((a, f) => a | f, CLIENT_PROTOCOL_41);
    const caps = ((r.otherBits & ~known) | CLIENT_PROTOCOL_41 | r.flags.reduce((a, f) => a | f, 0)) >>> 0;
    let auth = Buffer.from(r.auth);
    if (caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
      // Any length.
    } else if (caps & CLIENT_SECURE_CONNECTION) auth = auth.subarray(0, 255);
    else auth = Buffer.from(auth.filter((b) => b !== 0));
    // Positional fields: once one is missing, the later ones are missing too.
    let missing = false;
    const take = <T>(flag: number, v: T | null): T | null => {
      if (!(caps & flag)) return null;
      if (missing || v === null) {
        missing = true;
        return null;
      }
      return v;
    };
    const database = take(CLIENT_CONNECT_WITH_DB, r.database);
    const authPlugin = take(CLIENT_PLUGIN_AUTH, r.plugin);
    const connectAttrs = take(CLIENT_CONNECT_ATTRS, r.attrs === null ? null : Buffer.from(r.attrs));
    // The last string may lose its NUL only if it ends the packet and is not empty (else it would vanish).
    const lastString = authPlugin ?? (database !== null ? database.toString('latin1') : null);
    const stringLast = connectAttrs === null;
    const canCut =
      stringLast &&
      (lastString !== null
        ? lastString.length > 0
        : !(caps & (CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)));
    const unterminatedLast = r.unterminated && canCut;
    // Trailing bytes only fit where the parser has no field left to read them as.
    const trailing = unterminatedLast || missing ? Buffer.alloc(0) : Buffer.from(r.trailing);
    return {
      capabilities: caps,
      maxPacketSize: r.maxPacketSize,
      charset: r.charset,
      reserved: Buffer.from(r.reserved),
      extendedCapabilities: r.extendedCapabilities,
      user: r.user,
      authResponse: auth,
      database,
      authPlugin,
      connectAttrs,
      unterminatedLast,
      trailing,
    };
  });

describe('login properties', () => {
  test('encode then parse gives the same login, and encoding that gives the same bytes', () => {
    fc.assert(
      fc.property(loginArb, (login) => {
        const bytes = encodeLogin(login);
        const back = parseLogin(bytes);
        assert.deepEqual(back, login);
        assert.ok(encodeLogin(back).equals(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  test('whatever bytes parseLogin accepts, encodeLogin gives back byte for byte', () => {
    const caps = fc.integer({ min: 0, max: 0xffffffff }).map((c) => (c | CLIENT_PROTOCOL_41) >>> 0);
    const tail = fc.uint8Array({ maxLength: 80 }).map((a) =>
      // Mostly small bytes, so NULs and short lengths (and so successful parses) are frequent.
      Buffer.from(a.map((b) => (b < 200 ? b % 8 : b))),
    );
    let parsed = 0;
    fc.assert(
      fc.property(caps, fc.uint8Array({ minLength: 28, maxLength: 28 }), tail, (c, fixed, rest) => {
        const bytes = Buffer.concat([Buffer.alloc(4), fixed, rest]);
        bytes.writeUInt32LE(c, 0);
        let login: Login;
        try {
          login = parseLogin(bytes);
        } catch (e) {
          assert.ok(e instanceof MysqlProtocolError, String(e));
          return;
        }
        parsed++;
        assert.ok(encodeLogin(login).equals(bytes), bytes.toString('hex'));
      }),
      { numRuns: 5000 },
    );
    assert.ok(parsed > 500, `only ${parsed} of 5000 random logins parsed`);
  });

  test('cuts and byte changes of a real login either fail with MysqlProtocolError or re-encode the same', () => {
    const real = loginPayloadOf(NATIVE_LOGIN);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: real.length }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (cut, edits) => {
          const bytes = Buffer.from(real.subarray(0, cut));
          for (const [at, v] of edits) if (bytes.length) bytes[at % bytes.length] = v;
          try {
            assert.ok(encodeLogin(parseLogin(bytes)).equals(bytes), bytes.toString('hex'));
          } catch (e) {
            if (!(e instanceof MysqlProtocolError)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

/** The login payload of a captured exchange (the second packet: the client's first). */
function loginPayloadOf(chunks: typeof NATIVE_LOGIN): Buffer {
  const hexLogin = chunks.find(([dir]) => dir === 'c')![1];
  return Buffer.from(hexLogin, 'hex').subarray(4);
}
