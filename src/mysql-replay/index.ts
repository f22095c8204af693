// The MySQL mode of the session engine: login re-signing for a target with other passwords, statement-id
// remapping, the order of writes across sessions.
export { MysqlMode, FIGURE_NAMES as MYSQL_FIGURE_NAMES } from './mode.js';
export type { MysqlFigures, MysqlModeConfig, MysqlModeLog } from './mode.js';
export { MysqlLoginTransform, LOGIN_REPLY_BYTES, newMysqlCounters } from './login.js';
export type { MysqlCounters, MysqlEvents, MysqlLoginOptions } from './login.js';
export { MysqlStatementTransform, STATEMENT_REPLY_BYTES, MAX_STATEMENTS, NEVER_STATEMENT } from './statements.js';
export type { MysqlStatementOptions } from './statements.js';
export { MysqlOrderTransform, ORDER_WAIT_MS, EVIDENCE_WAIT_MS, MAX_PREPARED } from './order.js';
export type { MysqlOrderOptions } from './order.js';
export { WriteOrderBook, MAX_PENDING } from './order-book.js';
export type { OrderBookCounters } from './order-book.js';
