// MariaDB inside a lab host: a private datadir made by mariadb-install-db, then mariadbd in the
// foreground (tracked by the lab) with no option files, TCP bound to the host's lab addresses, the
// ed25519 auth plugin loaded, the general log on, no binlog and no TLS. The harness talks to it as
// root over the unix socket (root may log in by socket credentials only), so its own statements
// stay apart from the network traffic the tests count (see generalLogStatements in mariadb-load.ts).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { NsRunner } from './types.js';
import { LabError } from './errors.js';
import { stopProcessTree, detachFromLoop, tail, readLog, waitListening } from './proc.js';

/** The database every lab server has; sysbench's default (--mysql-db=sbtest). */
export const MARIADB_DATABASE = 'sbtest';

/** An application user: ALL on the lab database from any host. */
export interface MariadbUser {
  name: string;
  password: string;
  /** 'mysql_native_password' (the default) or 'ed25519' (MariaDB's client_ed25519 login). */
  plugin?: 'mysql_native_password' | 'ed25519';
}

export interface MariadbOptions {
  /** TCP port. Default 3306. */
  port?: number;
  /** The application users to create. Default none. */
  users?: readonly MariadbUser[];
}

export interface MariadbServer {
  readonly port: number;
  /** mariadbd's pid (the process itself: `ip netns exec` executes it in place). */
  readonly pid: number;
  /** The host it runs in: helpers run the client and sysbench there. */
  readonly host: NsRunner;
  readonly socket: string;
  readonly generalLogPath: string;
  readonly errorLogPath: string;
  readonly users: readonly MariadbUser[];
  /**
   * Runs statement(s) as root over the unix socket (`mariadb --batch`, no default database) and
   * returns the rows of every result, in order, each a list of its fields as the client prints them.
   */
  sql(statement: string): Promise<string[][]>;
  /** SIGTERM (innodb_fast_shutdown=3: no purge, no rollback), SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * InnoDB sizes for both the bootstrap and the server (they must agree, or the server resizes the
 * redo log at its first start): small, since a lab table is a few MB and the datadir is thrown away.
 */
export const MARIADB_INNODB_ARGS: readonly string[] = [
  '--innodb-buffer-pool-size=64M',
  '--innodb-log-file-size=16M',
  '--innodb-log-buffer-size=4M',
];

/** unix socket paths longer than this do not fit sockaddr_un (108 bytes with the final NUL). */
const MAX_SOCKET_PATH = 107;
const INSTALL_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

/**
 * mariadb-install-db's arguments: root logs in by socket credentials only; no test database. Pure.
 * Each server has its own temporary directory: the bootstrap's temporary tables are named by pid,
 * and one left in the shared /tmp by a killed run made a later bootstrap with that pid fail (seen on CI).
 */
export function installDbArgs(dataDir: string, tmpDir = join(dataDir, '..', 'tmp')): string[] {
  return [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--tmpdir=${tmpDir}`,
    '--user=root',
    '--auth-root-authentication-method=socket',
    '--skip-test-db',
    ...MARIADB_INNODB_ARGS,
  ];
}

/** mariadbd's arguments (`--no-defaults` has to come first). Pure. */
export function mariadbdArgs(dir: string, port: number, addresses: readonly string[]): string[] {
  return [
    '--no-defaults',
    `--datadir=${join(dir, 'data')}`,
    `--tmpdir=${join(dir, 'tmp')}`,
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    `--log-error=${join(dir, 'error.log')}`,
    '--user=root',
    `--port=${port}`,
    // 10.11 takes a comma-separated list; nothing listens on the other hosts' or the root's addresses.
    `--bind-address=${addresses.join(',')}`,
    // Clients come from lab addresses that have no names: no DNS look-ups in the login path.
    '--skip-name-resolve',
    '--plugin-load-add=auth_ed25519',
    '--general-log=1',
    `--general-log-file=${join(dir, 'general.log')}`,
    '--log-output=FILE',
    '--skip-log-bin',
    // No certificate: the server offers no TLS (no CLIENT_SSL in its greeting), so logins are readable.
    '--skip-ssl',
    '--max-connections=500',
    ...MARIADB_INNODB_ARGS,
    // Equal durability on both hosts and fewer fsyncs: throughput is the CPUs', not the disk's.
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--innodb-fast-shutdown=3',
    '--innodb-buffer-pool-load-at-startup=0',
    '--innodb-buffer-pool-dump-at-shutdown=0',
  ];
}

/** Single quotes a string for SQL (backslashes too, as the server's default sql_mode reads them). Pure. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The statements that create the lab database and the users (root over the socket runs them). Pure. */
export function setupStatements(users: readonly MariadbUser[]): string {
  const lines = [`CREATE DATABASE ${MARIADB_DATABASE};`];
  for (const u of users) {
    if (!/^[a-z_][a-z0-9_]{0,31}$/i.test(u.name)) throw new LabError('EBADARG', `bad user name ${u.name}`);
    const account = `${sqlString(u.name)}@'%'`;
    lines.push(
      (u.plugin ?? 'mysql_native_password') === 'ed25519'
        ? `CREATE USER ${account} IDENTIFIED VIA ed25519 USING PASSWORD(${sqlString(u.password)});`
        : `CREATE USER ${account} IDENTIFIED BY ${sqlString(u.password)};`,
      `GRANT ALL ON ${MARIADB_DATABASE}.* TO ${account};`,
    );
  }
  return lines.join('\n');
}

/** Batch output (one row a line, fields tab-separated) → rows. Pure. */
export function parseBatchRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** The server binary: /usr/sbin is not on every PATH. */
function mariadbdPath(): string {
  for (const p of ['/usr/sbin/mariadbd', '/usr/bin/mariadbd']) if (existsSync(p)) return p;
  throw new LabError('ENOTOOL', 'mariadbd is not installed (apt-get install mariadb-server)');
}

export async function startMariadb(host: NsRunner, opts: MariadbOptions = {}): Promise<MariadbServer> {
  const port = opts.port ?? 3306;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LabError('EBADARG', `bad port ${port}`);
  const users = opts.users ?? [];
  const setup = setupStatements(users);
  const binary = mariadbdPath();
  const dir = await host.makeTempDir(`mariadb${port}`);
  const socket = join(dir, 'mysqld.sock');
  if (socket.length > MAX_SOCKET_PATH)
    throw new LabError('EBADARG', `socket path too long for a unix socket (set a shorter TMPDIR): ${socket}`);
  await mkdir(join(dir, 'tmp'));
  await host.exec('mariadb-install-db', installDbArgs(join(dir, 'data')), { timeoutMs: INSTALL_TIMEOUT_MS });
  const addresses = host.ipv6 ? [host.ip, host.ip6] : [host.ip];
  const child = host.spawn(binary, mariadbdArgs(dir, port, addresses), { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  child.on('error', () => undefined); // reported through the exit check in waitListening
  detachFromLoop(child);
  const errorLogPath = join(dir, 'error.log');
  const sql = async (statement: string): Promise<string[][]> => {
    const r = await host.exec('mariadb', ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '-N'], {
      input: statement,
      timeoutMs: 60_000,
    });
    return parseBatchRows(r.stdout);
  };
  try {
    await waitListening(host, port, child, 'mariadbd', () => out() + err() + readLog(errorLogPath));
    await sql(setup);
  } catch (e) {
    await stopProcessTree(child, 500);
    throw e;
  }
  return {
    port,
    pid: child.pid ?? 0,
    host,
    socket,
    generalLogPath: join(dir, 'general.log'),
    errorLogPath,
    users,
    sql,
    stop: (graceMs = STOP_GRACE_MS) => stopProcessTree(child, graceMs),
  };
}
