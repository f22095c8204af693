// The MySQL mode of the session engine: login re-signing for a target with other passwords.
export { MysqlMode } from './mode.js';
export type { MysqlModeConfig, MysqlModeLog } from './mode.js';
export { MysqlLoginTransform, LOGIN_REPLY_BYTES, newMysqlCounters } from './login.js';
export type { MysqlCounters, MysqlEvents, MysqlLoginOptions } from './login.js';
