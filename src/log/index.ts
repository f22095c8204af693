// Public API of logging: the C-style line logger both tools use, and its JSON form (--log-format json).
export type { LogLevel, LogLine } from './log-line.js';
export { createLogger, formatLogLine, formatLogTime } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createJsonLogger, statsFields } from './json-logger.js';
export type { JsonLoggerOptions } from './json-logger.js';
