// A client of server-side prepared statements for the MySQL mode's end-to-end tests, run as a
// program on a lab host (node dist/test/mysql/ps-client.js HOST USER PASSWORD PRE SECONDS): logs in
// to HOST:3306 (database sbtest), prepares PRE statements and says "ready"; on "go" (stdin) it sends a
// plain query (a session joined here starts with a command that needs nothing from before), then for
// SECONDS prepares, executes and closes `UPDATE sbtestN SET k = k + 1 WHERE id = ?` (writes that
// commute) and executes one statement prepared after "go" all along; then prints a JSON line
// {prepares, executes, closes} (counted after "go") and quits. Built on test/mysql/mini-client.ts.
import { createInterface } from 'node:readline';
import { COM_QUIT, COM_STMT_CLOSE, COM_STMT_EXECUTE, COM_STMT_PREPARE, parsePrepareOk } from '../../src/mysql/index.js';
import { miniLogin, miniQuery } from './mini-client.js';
import type { MiniConnection } from './mini-client.js';

const TABLES = 4;
const ROWS = 10_000;

async function prepare(conn: MiniConnection, sql: string): Promise<number> {
  conn.send(0, Buffer.concat([Buffer.from([COM_STMT_PREPARE]), Buffer.from(sql, 'utf8')]));
  const first = await conn.read();
  if (first.payload[0] !== 0) throw new Error(`prepare ${sql}: ${first.payload.toString('latin1', 9)}`);
  const ok = parsePrepareOk(first.payload);
  // Parameter and column definitions, each list ended by an EOF (the login does not ask DEPRECATE_EOF).
  const more = (ok.params > 0 ? ok.params + 1 : 0) + (ok.columns > 0 ? ok.columns + 1 : 0);
  for (let i = 0; i < more; i++) await conn.read();
  return ok.statementId;
}

/** COM_STMT_EXECUTE of one INT parameter; the answer (an OK) is read. */
async function execute(conn: MiniConnection, stmt: number, value: number): Promise<void> {
  const p = Buffer.alloc(1 + 4 + 1 + 4 + 1 + 1 + 2 + 4);
  p[0] = COM_STMT_EXECUTE;
  p.writeUInt32LE(stmt, 1);
  p.writeUInt32LE(1, 6); // iteration count; flags (byte 5) 0: no cursor
  p[10] = 0; // NULL bitmap
  p[11] = 1; // types follow
  p.writeUInt16LE(3, 12); // MYSQL_TYPE_LONG, signed
  p.writeInt32LE(value, 14);
  conn.send(0, p);
  const answer = await conn.read();
  if (answer.payload[0] !== 0) throw new Error(`execute ${stmt}: ${answer.payload.toString('latin1', 9)}`);
}

/** COM_STMT_CLOSE (no answer). */
function close(conn: MiniConnection, stmt: number): void {
  const p = Buffer.alloc(5);
  p[0] = COM_STMT_CLOSE;
  p.writeUInt32LE(stmt, 1);
  conn.send(0, p);
}

const [host, user, password, pre, seconds] = process.argv.slice(2);
const conn = await miniLogin(3306, {
  host: host ?? '',
  user: user ?? '',
  password: password ?? '',
  database: 'sbtest',
});
if (conn.result.kind !== 'ok') throw new Error(`login refused: ${JSON.stringify(conn.result)}`);
for (let i = 0; i < Number(pre); i++) await prepare(conn, `SELECT ${i} + ?`);
console.log('ready');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();
await miniQuery(conn, 'SELECT 1');
const n = { prepares: 0, executes: 0, closes: 0 };
const rowId = (): number => 1 + Math.floor(Math.random() * ROWS);
const steady = await prepare(conn, 'UPDATE sbtest1 SET k = k + 1 WHERE id = ?');
n.prepares++;
const until = Date.now() + Number(seconds) * 1000;
for (let round = 0; Date.now() < until; round++) {
  const stmt = await prepare(conn, `UPDATE sbtest${1 + (round % TABLES)} SET k = k + 1 WHERE id = ?`);
  n.prepares++;
  for (let i = 0; i < 5; i++) await execute(conn, stmt, rowId());
  n.executes += 5;
  close(conn, stmt);
  n.closes++;
  await execute(conn, steady, rowId());
  n.executes++;
}
console.log(JSON.stringify(n));
conn.send(0, Buffer.from([COM_QUIT]));
conn.close();
