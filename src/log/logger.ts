// A minimal logger: lines shaped like the C tool's log (`2026/11/23 09:31:13 +123 [notice] text`)
// handed to a writer (the default; --log-format json writes the same records through pino:
// json-logger.ts). The clock and the writer are inputs, so formatting is testable.

import type { LogLevel, LogLine } from './log-line.js';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warn: 3, error: 4 };

export interface Logger {
  log(level: LogLevel, text: string): void;
  debug(text: string): void;
  info(text: string): void;
  notice(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Writes formatted statistics lines at their levels. */
  lines(lines: readonly LogLine[]): void;
}

export interface LoggerOptions {
  /** Receives each complete line, newline included. */
  readonly write: (line: string) => void;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Lines below this level are dropped (default 'info'). */
  readonly minLevel?: LogLevel;
  /** Format times in UTC instead of local time (default false). */
  readonly utc?: boolean;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `YYYY/MM/DD HH:MM:SS +mmm`, the C tool's log time. */
export function formatLogTime(epochMs: number, utc = false): string {
  const t = new Date(epochMs);
  const [y, mo, d, h, mi, s, ms] = utc
    ? [
        t.getUTCFullYear(),
        t.getUTCMonth() + 1,
        t.getUTCDate(),
        t.getUTCHours(),
        t.getUTCMinutes(),
        t.getUTCSeconds(),
        t.getUTCMilliseconds(),
      ]
    : [
        t.getFullYear(),
        t.getMonth() + 1,
        t.getDate(),
        t.getHours(),
        t.getMinutes(),
        t.getSeconds(),
        t.getMilliseconds(),
      ];
  return `${pad(y, 4)}/${pad(mo, 2)}/${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)} +${pad(ms, 3)}`;
}

/** One log line with its newline; line breaks inside `text` are replaced so a record stays one line. */
export function formatLogLine(epochMs: number, level: LogLevel, text: string, utc = false): string {
  return `${formatLogTime(epochMs, utc)} [${level}] ${text.replace(/[\r\n]+/g, ' ')}\n`;
}

export function createLogger(options: LoggerOptions): Logger {
  const min = RANK[options.minLevel ?? 'info'];
  const utc = options.utc ?? false;
  return loggerOver((level, text) => {
    if (RANK[level] >= min) options.write(formatLogLine(options.now(), level, text, utc));
  });
}

/** A Logger whose every method goes through `log`. */
export function loggerOver(log: (level: LogLevel, text: string) => void): Logger {
  return {
    log,
    debug: (text) => log('debug', text),
    info: (text) => log('info', text),
    notice: (text) => log('notice', text),
    warn: (text) => log('warn', text),
    error: (text) => log('error', text),
    lines: (lines) => {
      for (const l of lines) log(l.level, l.text);
    },
  };
}
