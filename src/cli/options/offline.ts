// Offline replay options: --offline FILE (or -i FILE when FILE is a regular file), -a, -I, -T,
// --top-speed, --pps, --rps, --report-json, --strict-file and --transport. --pps and --rps without a
// file are refused by modes.ts (live replay), with its reason. Pure: whether a path is a regular
// file comes in as an input. Hooked into validateTcpcopyOptions (src/cli/options/tcpcopy-config.ts).

import { OptionError } from './errors.js';
import { parseIntegerOption } from './numbers.js';
import type { OfflineConfig, Transport } from '../../replay/config.js';
import { MAX_RATE_PER_S } from '../../replay/pace.js';

export type { OfflineConfig, Transport };

/** Raw strings as commander hands them over. */
export interface OfflineRawOptions {
  /** --offline FILE */
  offline?: string;
  /** -a N */
  accelerate?: string;
  /** -I MS */
  idleCompress?: string;
  /** -T N */
  loops?: string;
  /** --top-speed */
  topSpeed?: boolean;
  /** --pps N */
  pps?: string;
  /** --rps N */
  rps?: string;
  /** --report-json FILE */
  reportJson?: string;
  /** --transport packet|socket */
  transport?: string;
  /** --strict-file */
  strictFile?: boolean;
  /** -i, shared with live capture: a regular file means offline replay. */
  interface?: string;
}

export const MAX_ACCEL = 1_000_000;
export const MAX_LOOPS = 1_000_000;
export const MAX_IDLE_MS = 86_400_000;
/** Highest --pps / --rps. */
export const MAX_RATE = MAX_RATE_PER_S;

function parseAccel(text: string): number {
  const t = text.trim();
  if (/^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$/.test(t)) {
    const n = Number(t);
    if (n > 0 && n <= MAX_ACCEL) return n;
  }
  throw new OptionError('OUT_OF_RANGE', `-a must be a number greater than 0 and at most ${MAX_ACCEL} (got '${text}')`);
}

/** --transport: the packet transport (raw send + intercept) by default. */
export function parseTransport(text: string | undefined): Transport {
  if (text === undefined) return 'packet';
  const t = text.trim();
  if (t === 'packet' || t === 'socket') return t;
  throw new OptionError('BAD_FORMAT', `--transport must be 'packet' or 'socket' (got '${text}')`);
}

/**
 * The offline configuration, or null for live replication. -i FILE counts as --offline FILE when
 * isRegularFile(FILE) (and is then no capture device); the timing options without a file are refused.
 */
export function parseOfflineConfig(
  raw: OfflineRawOptions,
  isRegularFile: (path: string) => boolean,
): OfflineConfig | null {
  let file: string | null = null;
  if (raw.offline !== undefined) {
    if (raw.offline.trim() === '') throw new OptionError('BAD_FORMAT', '--offline must not be empty');
    file = raw.offline;
    if (raw.interface !== undefined)
      throw new OptionError(
        'CONFLICT',
        `--offline ${raw.offline} replays a file: -i ${raw.interface} (live capture devices) does not apply`,
      );
  } else if (raw.interface !== undefined && raw.interface.trim() !== '' && isRegularFile(raw.interface)) {
    file = raw.interface;
  }
  if (file === null) {
    const given = [
      ['-a', raw.accelerate],
      ['-I', raw.idleCompress],
      ['-T', raw.loops],
      ['--top-speed', raw.topSpeed === true ? '' : undefined],
      ['--report-json', raw.reportJson],
      ['--strict-file', raw.strictFile === true ? '' : undefined],
    ].find(([, v]) => v !== undefined);
    if (given !== undefined)
      throw new OptionError('CONFLICT', `${given[0]} applies to offline replay only: add --offline FILE`);
    return null;
  }
  const topSpeed = raw.topSpeed === true;
  if (topSpeed && (raw.accelerate !== undefined || raw.idleCompress !== undefined)) {
    throw new OptionError('CONFLICT', `--top-speed ignores timing: -a and -I do not apply`);
  }
  const reportJson = raw.reportJson;
  if (reportJson !== undefined && reportJson.trim() === '')
    throw new OptionError('BAD_FORMAT', '--report-json must not be empty');
  return {
    file,
    accel: raw.accelerate === undefined ? 1 : parseAccel(raw.accelerate),
    idleMs: raw.idleCompress === undefined ? null : parseIntegerOption('-I', raw.idleCompress, 0, MAX_IDLE_MS),
    loops: raw.loops === undefined ? 1 : parseIntegerOption('-T', raw.loops, 1, MAX_LOOPS),
    topSpeed,
    pps: raw.pps === undefined ? null : parseIntegerOption('--pps', raw.pps, 1, MAX_RATE),
    rps: raw.rps === undefined ? null : parseIntegerOption('--rps', raw.rps, 1, MAX_RATE),
    reportJson: reportJson ?? null,
    strictFile: raw.strictFile === true,
  };
}
