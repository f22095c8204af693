// The MySQL mode of the session engine: login re-signing for a target with other passwords, statement-id
// remapping.
export { MysqlMode } from './mode.js';
export type { MysqlModeConfig, MysqlModeLog } from './mode.js';
export { MysqlLoginTransform, LOGIN_REPLY_BYTES, newMysqlCounters } from './login.js';
export type { MysqlCounters, MysqlEvents, MysqlLoginOptions } from './login.js';
export { MysqlStatementTransform, STATEMENT_REPLY_BYTES, MAX_STATEMENTS, NEVER_STATEMENT } from './statements.js';
export type { MysqlStatementOptions } from './statements.js';
