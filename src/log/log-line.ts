// One statistics or log line: its level and text. Levels are the C tool's (notice for counters,
// warn for diagnoses), so log readers written for it keep working.

export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error';

export interface LogLine {
  readonly level: LogLevel;
  readonly text: string;
}
