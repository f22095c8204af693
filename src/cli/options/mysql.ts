// --mysql user:password,..., --mysql-file FILE (one user:password per line), --mysql-skip-grant,
// --mysql-default and --mysql-order-writes: the MySQL mode's settings. Pure: the file's text comes
// in (read by config-file.ts).

import type { MysqlModeConfig } from '../../mysql-replay/index.js';
import { OptionError } from './errors.js';

export interface MysqlRawOptions {
  mysql?: string;
  mysqlFile?: string;
  /** The text of --mysql-file (read by the CLI's file edge). */
  mysqlFileText?: string;
  mysqlSkipGrant?: boolean;
  /** --mysql-default user[/database] */
  mysqlDefault?: string;
  mysqlOrderWrites?: boolean;
}

/** One `user:password` item (the password may hold ':'; the user may not be empty). */
function entry(where: string, item: string, into: Map<string, string>): void {
  const colon = item.indexOf(':');
  if (colon <= 0)
    throw new OptionError('BAD_FORMAT', `${where}: expected user:password, got '${item.replace(/:.*/, ':…')}'`);
  const user = item.slice(0, colon);
  if (into.has(user)) throw new OptionError('CONFLICT', `${where}: user '${user}' is given twice`);
  into.set(user, item.slice(colon + 1));
}

/** Where a daemon's parent puts --mysql for its child, out of the child's argv (see secretsToEnv). */
export const MYSQL_ENV = 'TCPCOPY_MYSQL';

/** The MySQL mode's settings, or null when none of its options is given. */
export function parseMysqlMode(
  raw: MysqlRawOptions,
  refuse: { tcpcopy1: boolean; socket?: boolean },
): MysqlModeConfig | null {
  const given = raw.mysql !== undefined || raw.mysqlFile !== undefined || raw.mysqlSkipGrant === true;
  if (!given) {
    if (raw.mysqlDefault !== undefined)
      throw new OptionError('CONFLICT', '--mysql-default needs --mysql, --mysql-file or --mysql-skip-grant');
    if (raw.mysqlOrderWrites === true)
      throw new OptionError('CONFLICT', '--mysql-order-writes needs --mysql, --mysql-file or --mysql-skip-grant');
    return null;
  }
  const orderWrites = raw.mysqlOrderWrites === true;
  if (orderWrites && refuse.socket === true) {
    throw new OptionError(
      'CONFLICT',
      '--mysql-order-writes: the socket transport replays each connection on its own and cannot hold one for another',
    );
  }
  if (refuse.tcpcopy1) {
    throw new OptionError(
      'CONFLICT',
      "--mysql reads the target's login answers, which the TCPCopy 1.x channel (--tcpcopy1) does not carry",
    );
  }
  const passwords = new Map<string, string>();
  if (raw.mysql !== undefined) {
    for (const item of raw.mysql.split(',')) {
      if (item.trim() === '') throw new OptionError('BAD_FORMAT', '--mysql: empty item (expected user:password,...)');
      entry('--mysql', item.trim(), passwords);
    }
  }
  if (raw.mysqlFileText !== undefined) {
    raw.mysqlFileText.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      entry(`--mysql-file ${raw.mysqlFile ?? ''} line ${i + 1}`, line.replace(/\s+$/, ''), passwords);
    });
  }
  const skipGrant = raw.mysqlSkipGrant === true;
  if (!skipGrant && passwords.size === 0) {
    throw new OptionError(
      'MISSING_OPTION',
      '--mysql needs the target password of every user that logs in (user:password,... or --mysql-file), or --mysql-skip-grant',
    );
  }
  const defaultLogin = parseDefault(raw.mysqlDefault);
  if (defaultLogin !== null && !skipGrant && !passwords.has(defaultLogin.user)) {
    throw new OptionError(
      'MISSING_OPTION',
      `--mysql-default ${defaultLogin.user}: --mysql names no target password for it`,
    );
  }
  return { passwords, skipGrant, defaultLogin, orderWrites };
}

/** --mysql-default user[/database]. */
function parseDefault(text: string | undefined): MysqlModeConfig['defaultLogin'] {
  if (text === undefined) return null;
  const slash = text.indexOf('/');
  const user = slash < 0 ? text : text.slice(0, slash);
  const database = slash < 0 ? null : text.slice(slash + 1);
  if (user === '' || database === '')
    throw new OptionError('BAD_FORMAT', `--mysql-default '${text}': expected user[/database]`);
  return { user, database };
}
