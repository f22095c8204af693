// --log-format json: the same records as the C-style lines, one JSON object per line, written by
// pino (level names as text, `notice` between info and warn, ISO time, the tool's name). A line made
// only of `name:number` pieces (the statistics lines) also carries them as `stats`, so a log
// collector reads counters without parsing text. The clock and the writer are inputs, as for the
// text logger.

import { pino } from 'pino';
import type { LogLevel } from './log-line.js';
import { loggerOver } from './logger.js';
import type { Logger, LoggerOptions } from './logger.js';

export interface JsonLoggerOptions extends LoggerOptions {
  /** `tool` in every record. */
  readonly tool: string;
}

const PIECE = /^\s*([a-z][a-z -]*?)\s*:\s*(-?\d+(?:\.\d+)?)\s*$/i;

/** `conns:20,resp:31` → { conns: 20, resp: 31 }; null unless every comma piece is `name:number`. */
export function statsFields(text: string): Record<string, number> | null {
  const out: Record<string, number> = {};
  const pieces = text.split(',');
  for (const p of pieces) {
    const m = PIECE.exec(p);
    if (m === null) return null;
    out[m[1]!] = Number(m[2]);
  }
  return pieces.length > 0 ? out : null;
}

export function createJsonLogger(o: JsonLoggerOptions): Logger {
  const p = pino<'notice'>(
    {
      level: o.minLevel ?? 'info',
      customLevels: { notice: 35 },
      base: { tool: o.tool },
      timestamp: () => `,"time":"${new Date(o.now()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (s: string) => o.write(s) },
  );
  const log = (level: LogLevel, text: string): void => {
    const stats = statsFields(text);
    if (stats === null) p[level](text);
    else p[level]({ stats }, text);
  };
  return loggerOver(log);
}
