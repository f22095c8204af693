// Recording alone: `tcpcopy --record FILE -x 80,6379` (or `--record-filter BPF`) without -s records
// and replicates nothing. This validates the options that mode uses (capture device, snaplen and
// buffer, log, pid file, daemon, memory limit, statistics interval, --record-*); replication options
// (-s, -n, -t, ...) are refused so a forgotten -s is not silently a recording. Pure.

import { parseLogFormat } from './log-format.js';
import { OptionError } from './errors.js';
import { parseInterfaces } from './interfaces.js';
import { parseIntegerOption } from './numbers.js';
import { TCPCOPY_DEFAULTS, parseStatsInterval } from './tcpcopy-config.js';
import type { TcpcopyRawOptions } from './tcpcopy-config.js';
import { parseRecordConfig } from './record.js';
import type { RecordConfig } from './record.js';

export interface RecordOnlyConfig {
  readonly record: RecordConfig;
  /** -i: capture devices; empty = every device ('any'). */
  readonly interfaces: readonly string[];
  /** -S */
  readonly snaplenBytes: number;
  /** -B */
  readonly captureBufferBytes: number;
  /** -l; null = standard error. */
  readonly logFile: string | null;
  /** --log-format */
  readonly logFormat: 'text' | 'json';
  /** -P */
  readonly pidFile: string | null;
  /** -d */
  readonly daemon: boolean;
  /** -m */
  readonly maxMemoryBytes: number;
  /** --stats-interval; 0 = only the final summary. */
  readonly statsIntervalMs: number;
}

/**
 * True when the options ask for recording alone: --record without -s (and without --transport or
 * --offline, which replicate without intercept; --record with --offline is refused by config.ts).
 */
export function isRecordOnly(raw: TcpcopyRawOptions): boolean {
  return (
    raw.record !== undefined && raw.intercept === undefined && raw.transport === undefined && raw.offline === undefined
  );
}

/** Options that only mean something when replicating. */
const REPLICATION_ONLY: readonly [keyof TcpcopyRawOptions, string][] = [
  ['interceptPort', '-p'],
  ['metrics', '--metrics'],
  ['connections', '-C'],
  ['filter', '-F'],
  ['outputDevice', '-o'],
  ['mtu', '-M'],
  ['mss', '-D'],
  ['sessionTimeout', '-t'],
  ['keepaliveTimeout', '-k'],
  ['synOnly', '-O'],
  ['lonely', '-L'],
  ['lonelyGrace', '--lonely-grace'],
  ['copies', '-n'],
  ['percentage', '-r'],
  ['clientIp', '-c'],
  ['localhostIp', '-H'],
  ['portFactor', '-f'],
  ['ramp', '-g'],
  ['tcpcopy1', '--tcpcopy1'],
  ['accelerate', '-a'],
  ['idleCompress', '-I'],
  ['loops', '-T'],
  ['topSpeed', '--top-speed'],
  ['pps', '--pps'],
  ['rps', '--rps'],
  ['reportJson', '--report-json'],
  ['strictFile', '--strict-file'],
  ['user', '--user'],
];

const nonEmpty = (flag: string, value: string | undefined): string | null => {
  if (value === undefined) return null;
  if (value.trim() === '') throw new OptionError('BAD_FORMAT', `${flag} must not be empty`);
  return value;
};

/** Validates the options of recording alone; throws OptionError with a one-line message. */
export function validateRecordOnlyOptions(raw: TcpcopyRawOptions): RecordOnlyConfig {
  for (const [key, flag] of REPLICATION_ONLY) {
    // -W is stored as wait === false; the others are present when given.
    if (raw[key] !== undefined)
      throw new OptionError(
        'CONFLICT',
        `${flag} is a replication option: recording alone (--record without -s) does not use it`,
      );
  }
  if (raw.wait === false)
    throw new OptionError(
      'CONFLICT',
      '-W is a replication option: recording alone (--record without -s) does not use it',
    );
  const record = parseRecordConfig(raw);
  if (record === null) throw new OptionError('MISSING_OPTION', 'recording alone needs --record FILE');
  const d = TCPCOPY_DEFAULTS;
  return {
    record,
    interfaces: parseInterfaces('-i', raw.interface),
    snaplenBytes: raw.snaplen === undefined ? d.snaplenBytes : parseIntegerOption('-S', raw.snaplen, 68, 65535),
    captureBufferBytes:
      (raw.bufferSize === undefined ? d.captureBufferMb : parseIntegerOption('-B', raw.bufferSize, 1, 2047)) *
      1024 *
      1024,
    logFile: nonEmpty('-l', raw.logFile),
    logFormat: parseLogFormat(raw.logFormat),
    pidFile: nonEmpty('-P', raw.pidFile),
    daemon: raw.daemon === true,
    maxMemoryBytes:
      (raw.maxMemory === undefined ? d.maxMemoryMb : parseIntegerOption('-m', raw.maxMemory, 16, 1048576)) *
      1024 *
      1024,
    statsIntervalMs: raw.statsInterval === undefined ? d.statsIntervalS * 1000 : parseStatsInterval(raw.statsInterval),
  };
}
