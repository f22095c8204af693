// Public surface of statistics: tcpcopy's and intercept's counters and their periodic and final
// lines in the C tool's shapes. Pure; the timer lives at the edge.

export { newEdgeCounters } from './tcpcopy-counters.js';
export type { EdgeCounters, TcpcopyCounters } from './tcpcopy-counters.js';
export { createInterceptCounters } from './intercept-counters.js';
export type { InterceptCounters } from './intercept-counters.js';
export { formatTcpcopyStats, formatTcpcopySummary, DIAGNOSIS_DELAY_MS } from './tcpcopy-report.js';
export { formatRewriteLine, formatCopyPortsLine, formatCloseReasons } from './tcpcopy-report.js';
export type { RewriteFigures } from './tcpcopy-report.js';
export { formatInterceptStats, formatInterceptSummary } from './intercept-report.js';
