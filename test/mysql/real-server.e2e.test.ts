// src/mysql/ against a real MariaDB 10.11: a throwaway mariadbd (test/mysql/mariadb-server.ts) and a
// client built only from the module (test/mysql/mini-client.ts). Logs in as a mysql_native_password
// user and as an ed25519 user (the server switches plugins), runs SELECT 1 with and without
// CLIENT_DEPRECATE_EOF, prepares and executes SELECT ? (and sees a foreign statement id refused),
// and gets ERR 1045 for wrong passwords. Then the official mariadb client logs in through a proxy
// here: its login must re-encode byte for byte and our responses must equal its own.
// Needs mariadbd (skipped with the reason otherwise); about 5 seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import {
  clientEd25519,
  COM_STMT_CLOSE,
  COM_STMT_EXECUTE,
  COM_STMT_PREPARE,
  encodeLogin,
  MysqlPacketReader,
  nativePassword,
  parseAuthReply,
  parseErr,
  parseGreeting,
  parseLogin,
  parsePrepareOk,
  parseResultStreamPacket,
  statementIdOf,
  withStatementId,
} from '../../src/mysql/index.js';
import type { MysqlPacket } from '../../src/mysql/index.js';
import { mariadbSkipReason, startMariadb } from './mariadb-server.js';
import type { MariadbServer } from './mariadb-server.js';
import { miniLogin, miniQuery, readResult } from './mini-client.js';
import type { MiniConnection } from './mini-client.js';
import { runAsync } from '../support/processes.js';

const skip = mariadbSkipReason();
const NAT_PW = 'nat-Secret-1';
const EDU_PW = 'an ed25519 password of any length, here 49 bytes';
const CLI = '/usr/bin/mariadb';

let server: MariadbServer | null = null;

before(async () => {
  if (skip) return;
  server = await startMariadb('tcpcopy-mysql-codec-');
  const root = await miniLogin(server.port, { user: 'root', password: '' });
  assert.equal(root.result.kind, 'ok', JSON.stringify(root.result));
  for (const sql of [
    `CREATE USER nat@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${NAT_PW}')`,
    `CREATE USER edu@'%' IDENTIFIED VIA ed25519 USING PASSWORD('${EDU_PW}')`,
  ]) {
    const r = await miniQuery(root, sql);
    assert.equal(r.first.kind, 'ok', `${sql}: ${JSON.stringify(r.first)}`);
  }
  root.close();
});

after(async () => {
  await server?.stop();
});

function port(): number {
  return server!.port;
}

async function loggedIn(user: string, password: string, deprecateEof = false): Promise<MiniConnection> {
  const c = await miniLogin(port(), { user, password, deprecateEof });
  assert.equal(c.result.kind, 'ok', JSON.stringify(c.result));
  return c;
}

test('mysql_native_password login, then SELECT 1 (classic EOF)', { skip, timeout: 30_000 }, async () => {
  const c = await loggedIn('nat', NAT_PW);
  assert.equal(c.greeting.protocolVersion, 10);
  assert.match(c.greeting.serverVersion, /MariaDB/);
  assert.equal(c.greeting.scramble.length, 20);
  assert.deepEqual(
    c.authReplies.map((r) => r.kind),
    ['ok'],
  );
  const r = await miniQuery(c, 'SELECT 1');
  assert.deepEqual(r.first, { kind: 'result-set', columns: 1 });
  assert.equal(r.columns.length, 1);
  assert.deepEqual(
    r.rows.map((b) => b.toString('hex')),
    ['0131'],
  );
  assert.equal(r.end?.kind, 'eof');
  c.close();
});

test(
  'ed25519 login: the server switches to client_ed25519 with a 32-byte nonce',
  { skip, timeout: 30_000 },
  async () => {
    const c = await loggedIn('edu', EDU_PW, true);
    const sw = c.authReplies[0]!;
    assert.equal(sw.kind, 'auth-switch');
    assert.equal(sw.kind === 'auth-switch' && sw.plugin, 'client_ed25519');
    assert.equal(sw.kind === 'auth-switch' && sw.data.length, 32);
    assert.equal(c.authReplies.length, 2);
    // With CLIENT_DEPRECATE_EOF the rows end with an OK whose header is 0xfe.
    const r = await miniQuery(c, 'SELECT 1 AS a, 2 AS b');
    assert.deepEqual(r.first, { kind: 'result-set', columns: 2 });
    assert.deepEqual(
      r.rows.map((b) => b.toString('hex')),
      ['01310132'],
    );
    assert.equal(r.end?.kind, 'ok');
    c.close();
  },
);

test(
  'COM_STMT_PREPARE SELECT ?: statement id, execute it, a foreign id is refused',
  { skip, timeout: 30_000 },
  async () => {
    const c = await loggedIn('nat', NAT_PW);
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      c.send(0, Buffer.concat([Buffer.from([COM_STMT_PREPARE]), Buffer.from('SELECT ?')]));
      const ok = parsePrepareOk((await c.read()).payload);
      assert.equal(ok.params, 1);
      assert.equal(ok.columns, 1);
      // Parameter definitions and column definitions, each list closed by an EOF (classic mode).
      for (let k = 0; k < 4; k++) await c.read();
      ids.push(ok.statementId);
    }
    assert.equal(ids[1], ids[0]! + 1);

    // Execute the first: 1 parameter, not null, new-params-bound, type LONGLONG, value 42.
    const body = Buffer.from('00000000 00 01000000 00 01 0800 2a00000000000000'.replace(/ /g, ''), 'hex');
    const exec = Buffer.concat([Buffer.from([COM_STMT_EXECUTE]), body]);
    const mine = withStatementId(exec, ids[0]!);
    assert.equal(statementIdOf(mine), ids[0]);
    c.send(0, mine);
    const r = await readResult(c);
    assert.deepEqual(r.first, { kind: 'result-set', columns: 1 });
    assert.equal(r.rows.length, 1);
    // Binary row: 0x00 header, null bitmap (1 byte), the 8-byte value.
    assert.equal(r.rows[0]!.toString('hex'), '00002a00000000000000');

    c.send(0, withStatementId(exec, ids[1] + 100));
    const err = parseErr((await c.read()).payload);
    assert.equal(err.kind === 'err' && err.code, 1243);

    c.send(0, withStatementId(Buffer.from([COM_STMT_CLOSE, 0, 0, 0, 0]), ids[0]!));
    c.send(0, mine);
    const closed = parseErr((await c.read()).payload);
    assert.equal(closed.kind === 'err' && closed.code, 1243);
    c.close();
  },
);

test('wrong passwords give ERR 1045 Access denied', { skip, timeout: 30_000 }, async () => {
  for (const user of ['nat', 'edu']) {
    const c = await miniLogin(port(), { user, password: 'not-it' });
    const r = c.result;
    assert.equal(r.kind, 'err');
    if (r.kind !== 'err') return;
    assert.equal(r.code, 1045);
    assert.equal(r.sqlState, '28000');
    assert.match(r.message, new RegExp(`^Access denied for user '${user}'@`));
    c.close();
  }
});

/** Proxies one connection to the server, framing what each side sent. */
function recordingProxy(): Promise<{ server: Server; port: number; done: Promise<Array<['c' | 's', MysqlPacket]>> }> {
  return new Promise((resolve) => {
    let finish: (v: Array<['c' | 's', MysqlPacket]>) => void = () => {};
    const done = new Promise<Array<['c' | 's', MysqlPacket]>>((r) => (finish = r));
    const proxy = createServer((client) => {
      const upstream = connect(port(), '127.0.0.1');
      const readers = { c: new MysqlPacketReader(), s: new MysqlPacketReader() };
      const seen: Array<['c' | 's', MysqlPacket]> = [];
      client.on('data', (b: Buffer) => {
        for (const p of readers.c.push(b)) seen.push(['c', p]);
        upstream.write(b);
      });
      upstream.on('data', (b: Buffer) => {
        for (const p of readers.s.push(b)) seen.push(['s', p]);
        client.write(b);
      });
      client.on('close', () => {
        upstream.destroy();
        finish(seen);
      });
      upstream.on('close', () => client.destroy());
      client.on('error', () => {});
      upstream.on('error', () => {});
    });
    proxy.listen(0, '127.0.0.1', () => resolve({ server: proxy, port: (proxy.address() as AddressInfo).port, done }));
  });
}

async function officialLogin(user: string, password: string): Promise<Array<['c' | 's', MysqlPacket]>> {
  const proxy = await recordingProxy();
  try {
    const args = ['--no-defaults', '--ssl=0', '-h127.0.0.1', `-P${proxy.port}`, `-u${user}`, `-p${password}`];
    const ran = await runAsync(CLI, [...args, '-e', 'select 1'], { timeoutMs: 20_000 });
    assert.equal(ran.code, 0, ran.stderr);
    return await proxy.done;
  } finally {
    proxy.server.close();
  }
}

test(
  'the official client: its login re-encodes byte for byte; our responses are its own',
  { skip: skip || (!existsSync(CLI) && `needs ${CLI}`), timeout: 60_000 },
  async () => {
    const nat = await officialLogin('nat', NAT_PW);
    const greeting = parseGreeting(nat[0]![1].payload);
    const login = parseLogin(nat[1]![1].payload);
    assert.ok(encodeLogin(login).equals(nat[1]![1].payload));
    assert.equal(login.user.toString(), 'nat');
    assert.ok(login.authResponse.equals(nativePassword(NAT_PW, greeting.scramble)));
    assert.equal(parseAuthReply(nat[2]![1].payload).kind, 'ok');

    const edu = await officialLogin('edu', EDU_PW);
    const eduLogin = parseLogin(edu[1]![1].payload);
    assert.ok(encodeLogin(eduLogin).equals(edu[1]![1].payload));
    const sw = parseAuthReply(edu[2]![1].payload);
    assert.equal(sw.kind, 'auth-switch');
    if (sw.kind !== 'auth-switch') return;
    const [dir, signature] = edu[3]!;
    assert.equal(dir, 'c');
    assert.ok(signature.payload.equals(clientEd25519(EDU_PW, sw.data)));
    assert.equal(parseAuthReply(edu[4]![1].payload).kind, 'ok');
    // After the select, the client quits; the rows it saw end with an EOF (no CLIENT_DEPRECATE_EOF).
    const ends = edu.filter(([d, p]) => d === 's' && p.payload[0] === 0xfe && p.payload.length < 9);
    assert.equal(ends.length, 2);
    for (const [, p] of ends) assert.equal(parseResultStreamPacket(p.payload, eduLogin.capabilities).kind, 'eof');
  },
);
