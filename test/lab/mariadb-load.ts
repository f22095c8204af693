// sysbench loads and checks for a lab MariaDB: equal sbtest tables on a server (a seeded sysbench
// prepare over its socket), a bounded sysbench OLTP run from a lab host over the network and its
// summary, CHECKSUM TABLE of every sbtest table, and the counts of the server's general log.
import { readFile } from 'node:fs/promises';
import type { NsRunner } from './types.js';
import type { MariadbServer } from './mariadb.js';
import { MARIADB_DATABASE } from './mariadb.js';
import { LabError } from './errors.js';
import { parseGeneralLog, countGeneralLog } from './mariadb-log.js';
import type { GeneralLogCounts } from './mariadb-log.js';

export const SYSBENCH_LIMITS = {
  maxTables: 64,
  maxTableSize: 1_000_000,
  maxThreads: 256,
  maxSeconds: 300,
} as const;

/** The OLTP scripts sysbench 1.0 ships (they share one table layout, oltp_common). */
/** oltp_update_index writes only `k = k + 1` by id: its updates commute, so any order gives the same tables. */
export type SysbenchTest =
  | 'oltp_write_only'
  | 'oltp_read_write'
  | 'oltp_read_only'
  | 'oltp_point_select'
  | 'oltp_update_index'
  | 'oltp_update_non_index';

export interface SysbenchOptions {
  test: SysbenchTest;
  /** The server's address: a lab host's address (checked). */
  host: string;
  /** Default 3306. */
  port?: number;
  user: string;
  password: string;
  tables: number;
  /** Rows per table. */
  tableSize: number;
  threads: number;
  /** Run time in seconds (--time; no event limit). */
  timeS: number;
  /**
   * 'auto' (sysbench's default): statements run as server-side prepared statements (COM_STMT_PREPARE,
   * then COM_STMT_EXECUTE); 'disable': as text (COM_QUERY).
   */
  psMode?: 'auto' | 'disable';
  /** More `--name=value` options, before the command (e.g. `--skip_trx=on`). */
  extraArgs?: readonly string[];
}

/** sysbench's final statistics. */
export interface SysbenchResult {
  /** sysbench's exit status (non-zero after a FATAL error; the summary is still printed then). */
  exitCode: number;
  transactions: number;
  tps: number;
  /** Statements run: read + write + other. */
  queries: number;
  qps: number;
  read: number;
  write: number;
  /** BEGIN, COMMIT and the like. */
  other: number;
  /** Errors sysbench retried the transaction after (--mysql-ignore-errors: deadlocks by default). */
  ignoredErrors: number;
  reconnects: number;
  totalTimeS: number;
  latencyAvgMs: number;
  latencyP95Ms: number;
  /** `FATAL: ...` lines (errors that ended a thread). */
  fatal: string[];
}

function bounded(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new LabError('EBADARG', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

/** sysbench's command line for a run (TLS off: the lab reads the logins on the wire). Pure. */
export function sysbenchRunArgs(o: SysbenchOptions): string[] {
  const port = bounded('port', o.port ?? 3306, 1, 65535);
  for (const a of o.extraArgs ?? [])
    if (!/^--[a-z][a-z0-9_-]*=\S*$/.test(a)) throw new LabError('EBADARG', `bad sysbench option ${JSON.stringify(a)}`);
  return [
    o.test,
    '--db-driver=mysql',
    `--mysql-host=${o.host}`,
    `--mysql-port=${port}`,
    `--mysql-user=${o.user}`,
    `--mysql-password=${o.password}`,
    `--mysql-db=${MARIADB_DATABASE}`,
    '--mysql-ssl=off',
    `--tables=${bounded('tables', o.tables, 1, SYSBENCH_LIMITS.maxTables)}`,
    `--table-size=${bounded('tableSize', o.tableSize, 1, SYSBENCH_LIMITS.maxTableSize)}`,
    `--threads=${bounded('threads', o.threads, 1, SYSBENCH_LIMITS.maxThreads)}`,
    `--time=${bounded('timeS', o.timeS, 1, SYSBENCH_LIMITS.maxSeconds)}`,
    '--events=0',
    `--db-ps-mode=${o.psMode ?? 'auto'}`,
    ...(o.extraArgs ?? []),
    'run',
  ];
}

/**
 * The tables of a sysbench prepare on a server's socket as root. One thread and a fixed seed, so
 * two servers prepared alike hold the same rows (more threads interleave their random draws).
 * Pure.
 */
export function sysbenchPrepareArgs(socket: string, tables: number, tableSize: number): string[] {
  return [
    'oltp_read_write',
    '--db-driver=mysql',
    `--mysql-socket=${socket}`,
    '--mysql-user=root',
    `--mysql-db=${MARIADB_DATABASE}`,
    `--tables=${bounded('tables', tables, 1, SYSBENCH_LIMITS.maxTables)}`,
    `--table-size=${bounded('tableSize', tableSize, 1, SYSBENCH_LIMITS.maxTableSize)}`,
    '--threads=1',
    '--rand-seed=1',
    'prepare',
  ];
}

/** The statistics of sysbench's output. Pure. Throws LabError('ECMDFAIL') when it has none. */
export function parseSysbench(text: string, exitCode = 0): SysbenchResult {
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const transactions = num(/^\s*transactions:\s+(\d+)/m);
  const queries = num(/^\s*queries:\s+(\d+)/m);
  if (transactions === undefined || queries === undefined)
    throw new LabError('ECMDFAIL', 'sysbench printed no statistics', { stderr: text.slice(-3000) });
  return {
    exitCode,
    transactions,
    tps: num(/^\s*transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/m) ?? 0,
    queries,
    qps: num(/^\s*queries:\s+\d+\s+\(([\d.]+) per sec\.\)/m) ?? 0,
    read: num(/^\s*read:\s+(\d+)/m) ?? 0,
    write: num(/^\s*write:\s+(\d+)/m) ?? 0,
    other: num(/^\s*other:\s+(\d+)/m) ?? 0,
    ignoredErrors: num(/^\s*ignored errors:\s+(\d+)/m) ?? 0,
    reconnects: num(/^\s*reconnects:\s+(\d+)/m) ?? 0,
    totalTimeS: num(/^\s*total time:\s+([\d.]+)s/m) ?? 0,
    latencyAvgMs: num(/^\s*avg:\s+([\d.]+)/m) ?? 0,
    latencyP95Ms: num(/^\s*95th percentile:\s+([\d.]+)/m) ?? 0,
    fatal: text.split('\n').filter((l) => l.startsWith('FATAL: ')),
  };
}

/** Runs sysbench from a lab host against a lab server; bounded in time. */
export async function sysbench(from: NsRunner, o: SysbenchOptions): Promise<SysbenchResult> {
  const args = sysbenchRunArgs(o);
  from.assertLabUrl(`mysql://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port ?? 3306}/`);
  // libmariadb loads an auth plugin on first use, and threads connecting at once race for it (one
  // fails: "Plugin client_ed25519 could not be loaded: it is already loaded", seen on CI): the
  // library loads the plugins in LIBMYSQL_PLUGINS at its init instead, before the threads start.
  const r = await from.exec('env', ['LIBMYSQL_PLUGINS=client_ed25519', 'sysbench', ...args], {
    check: false,
    timeoutMs: (o.timeS + 30) * 1000,
  });
  return parseSysbench(`${r.stdout}\n${r.stderr}`, r.code);
}

/**
 * Creates and fills sbtest1..sbtest<tables> (rows each, with sysbench's secondary index) on a
 * server, through its socket: not on the network, so tcpcopy does not see it, and not counted by
 * generalLogStatements. Servers prepared with the same sizes hold the same data.
 */
export async function prepareTables(server: MariadbServer, tables: number, rows: number): Promise<void> {
  await server.host.exec('sysbench', sysbenchPrepareArgs(server.socket, tables, rows), { timeoutMs: 120_000 });
}

/**
 * Has `threads` connections (over the server's socket, as root: not counted by generalLogStatements)
 * prepare sysbench's read statements and run them for a second, then close. MariaDB numbers a
 * connection's prepared statements on from where the last connection of its (cached) thread
 * stopped, so afterwards the server hands later connections other statement ids than a fresh one.
 */
export async function advanceStatementIds(
  server: MariadbServer,
  tables: number,
  rows: number,
  threads: number,
): Promise<void> {
  await server.host.exec(
    'sysbench',
    [
      'oltp_read_only',
      '--db-driver=mysql',
      `--mysql-socket=${server.socket}`,
      '--mysql-user=root',
      `--mysql-db=${MARIADB_DATABASE}`,
      `--tables=${bounded('tables', tables, 1, SYSBENCH_LIMITS.maxTables)}`,
      `--table-size=${bounded('tableSize', rows, 1, SYSBENCH_LIMITS.maxTableSize)}`,
      `--threads=${bounded('threads', threads, 1, SYSBENCH_LIMITS.maxThreads)}`,
      '--time=1',
      '--events=0',
      '--db-ps-mode=auto',
      'run',
    ],
    { timeoutMs: 60_000 },
  );
}

/** CHECKSUM TABLE of every table of the lab database: 'sbtest.sbtest1' → checksum ('NULL' if unreadable). */
export async function checksums(server: MariadbServer): Promise<Map<string, string>> {
  const names = await server.sql(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = '${MARIADB_DATABASE}' ORDER BY table_name;`,
  );
  const out = new Map<string, string>();
  if (names.length === 0) return out;
  const list = names.map(([t]) => `${MARIADB_DATABASE}.\`${t ?? ''}\``).join(', ');
  for (const [table, sum] of await server.sql(`CHECKSUM TABLE ${list};`))
    if (table !== undefined) out.set(table, sum ?? 'NULL');
  return out;
}

/** The server's general log, counted for the connections that came over the network (see countGeneralLog). */
export async function generalLogStatements(server: MariadbServer): Promise<GeneralLogCounts> {
  return countGeneralLog(parseGeneralLog(await readFile(server.generalLogPath, 'utf8')));
}
