// A client of one application's habits for the MySQL mode's session-state end-to-end test, run as a
// program on a lab host (node dist/test/mysql/state-client.js HOST USER PASSWORD): every connection it
// opens logs in to HOST:3306 (database sbtest), then sets itself up the same way (USE shop, SET @tag,
// SET SESSION sql_mode) before it writes. Connection A does so and says "ready"; on "go" (stdin)
// connection B opens, sets up, inserts a row and quits; then A inserts its row into the unqualified
// table `t` (shop's: sbtest has none) @tag and its sql_mode, and quits. Prints a JSON line {rows} of what it
// inserted. Built on test/mysql/mini-client.ts.
import { createInterface } from 'node:readline';
import { COM_QUIT } from '../../src/mysql/index.js';
import { miniLogin, miniQuery } from './mini-client.js';
import type { MiniConnection } from './mini-client.js';

const SETUP = ['USE shop', "SET @tag = 'app-7'", "SET SESSION sql_mode = 'ANSI_QUOTES'"];
/** Needs all three: shop's table, the variable, the session's sql_mode. */
const INSERT = 'INSERT INTO t (tag, mode) VALUES (@tag, @@SESSION.sql_mode)';

async function open(host: string, user: string, password: string): Promise<MiniConnection> {
  const conn = await miniLogin(3306, { host, user, password, database: 'sbtest' });
  if (conn.result.kind !== 'ok') throw new Error(`login refused: ${JSON.stringify(conn.result)}`);
  for (const sql of SETUP) await must(conn, sql);
  return conn;
}

async function must(conn: MiniConnection, sql: string): Promise<void> {
  const r = await miniQuery(conn, sql);
  if (r.first.kind === 'err') throw new Error(`${sql}: ${r.first.code} ${r.first.message}`);
}

const [host = '', user = '', password = ''] = process.argv.slice(2);
const a = await open(host, user, password);
console.log('ready');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === 'go') break;
lines.close();
const b = await open(host, user, password);
await must(b, INSERT);
b.send(0, Buffer.from([COM_QUIT]));
b.close();
await new Promise((r) => setTimeout(r, 300));
await must(a, INSERT);
console.log(JSON.stringify({ rows: 2 }));
a.send(0, Buffer.from([COM_QUIT]));
a.close();
