// Capability and status flags the codec reads, with the MySQL names. The 32 classic capability
// bits travel in the greeting and the login; MariaDB (10.2+) adds 32 more, sent in otherwise
// reserved bytes only when the server clears CLIENT_MYSQL (bit 0, CLIENT_LONG_PASSWORD to MySQL).

/** MySQL's CLIENT_LONG_PASSWORD; a MariaDB server clears it to say "MariaDB extended capabilities follow". */
export const CLIENT_MYSQL = 0x1;
export const CLIENT_CONNECT_WITH_DB = 0x8;
export const CLIENT_COMPRESS = 0x20;
export const CLIENT_LOCAL_FILES = 0x80;
export const CLIENT_PROTOCOL_41 = 0x200;
export const CLIENT_SSL = 0x800;
export const CLIENT_TRANSACTIONS = 0x2000;
/** Also called CLIENT_RESERVED2: the 4.1 scramble and a 1-byte auth response length. */
export const CLIENT_SECURE_CONNECTION = 0x8000;
export const CLIENT_MULTI_STATEMENTS = 0x10000;
export const CLIENT_MULTI_RESULTS = 0x20000;
export const CLIENT_PS_MULTI_RESULTS = 0x40000;
export const CLIENT_PLUGIN_AUTH = 0x80000;
export const CLIENT_CONNECT_ATTRS = 0x100000;
export const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x200000;
export const CLIENT_SESSION_TRACK = 0x800000;
export const CLIENT_DEPRECATE_EOF = 0x1000000;
/** MySQL 8: a query attribute block prefixes COM_QUERY; MariaDB never sets it. */
export const CLIENT_QUERY_ATTRIBUTES = 0x8000000;

/** MariaDB extended capabilities (the upper 32 of its 64 bits, counted from bit 0 here). */
export const MARIADB_CLIENT_PROGRESS = 0x1;
export const MARIADB_CLIENT_STMT_BULK_OPERATIONS = 0x4;
export const MARIADB_CLIENT_EXTENDED_METADATA = 0x8;
export const MARIADB_CLIENT_CACHE_METADATA = 0x10;

/** Server status flags (OK and EOF packets, greeting). */
export const SERVER_STATUS_IN_TRANS = 0x1;
export const SERVER_STATUS_AUTOCOMMIT = 0x2;
export const SERVER_MORE_RESULTS_EXISTS = 0x8;
export const SERVER_SESSION_STATE_CHANGED = 0x4000;

export function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) !== 0;
}
