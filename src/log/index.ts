// Public API of logging: the C-style line logger used by both tools.
export type { LogLevel, LogLine } from './log-line.js';
export { createLogger, formatLogLine, formatLogTime } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
