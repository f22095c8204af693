// Public surface of statistics: tcpcopy's and intercept's counters, their periodic and final
// lines in the C tool's shapes, and a minimal logger. Pure; the timer lives at the edge.

export type { LogLevel, LogLine } from './log-line.js';
export { newEdgeCounters } from './tcpcopy-counters.js';
export type { EdgeCounters, TcpcopyCounters } from './tcpcopy-counters.js';
export { createInterceptCounters } from './intercept-counters.js';
export type { InterceptCounters } from './intercept-counters.js';
export { formatTcpcopyStats, formatTcpcopySummary, DIAGNOSIS_DELAY_MS } from './tcpcopy-report.js';
export { formatRewriteLine, formatCloseReasons } from './tcpcopy-report.js';
export type { RewriteFigures } from './tcpcopy-report.js';
export { formatInterceptStats, formatInterceptSummary } from './intercept-report.js';
export { createLogger, formatLogLine, formatLogTime } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
