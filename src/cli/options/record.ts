// Recording options (--record FILE, --record-size MB, --record-seconds S, --record-filter BPF) and the
// recording's capture filter. Pure; errors are OptionError with one-line messages.
//
// The filter captures both directions of the online ports: `tcp and (port 80 or (host H and port
// 6379))`, built from the online side of the -x items (`[onlineIP:]port`, with or without a target;
// recording alone needs no target). A target address:port that the terms would also catch (a target
// on an online port, e.g. the copies tcpcopy sends when replicating at the same time) is excluded.
// --record-filter replaces the built filter.

import { parseHostPort, parsePort, splitList } from './address.js';
import type { RecordConfig } from '../../record/config.js';
import { OptionError } from './errors.js';

export type { RecordConfig };
import { parseSecondsOption } from './numbers.js';
import { parseTransfer, MAX_TRANSFERS } from './transfer.js';

/** Largest --record-size, MB. */
export const MAX_RECORD_SIZE_MB = 1024 * 1024;
/** Longest --record-seconds. */
export const MAX_RECORD_SECONDS = 366 * 86400;

export interface RecordRawOptions {
  /** --record FILE (pcapng). */
  record?: string;
  /** --record-size MB: rotate files at this size. */
  recordSize?: string;
  /** --record-seconds S: rotate files every S seconds of capture time. */
  recordSeconds?: string;
  /** --record-filter BPF: what to record instead of both directions of the -x online ports. */
  recordFilter?: string;
  /** -x, for the online ports. */
  transfer?: string;
  /** --offline FILE: recording captures live traffic, so the two are refused together. */
  offline?: string;
}

/** One online endpoint to record (ip null = every local address) and target endpoints to leave out. */
export interface RecordPorts {
  readonly online: readonly { readonly ip: string | null; readonly port: number }[];
  readonly targets: readonly { readonly ip: string; readonly port: number }[];
}

/** -x for recording: `[onlineIP:]port` items or full transfer items (`[onlineIP:]port-targetIP:port`). */
export function parseRecordPorts(text: string): RecordPorts {
  const items = splitList('-x', text);
  if (items.length > MAX_TRANSFERS)
    throw new OptionError('OUT_OF_RANGE', `-x: at most ${MAX_TRANSFERS} items (got ${items.length})`);
  const online: { ip: string | null; port: number }[] = [];
  const targets: { ip: string; port: number }[] = [];
  for (const item of items) {
    if (item.includes('-')) {
      const t = parseTransfer(item);
      online.push({ ip: t.online.ip?.text ?? null, port: t.online.port });
      targets.push({ ip: t.target.ip.text, port: t.target.port });
      continue;
    }
    const side = item.split('@')[0] ?? item;
    const where = `-x '${item}'`;
    if (/^[0-9]+$/.test(side)) {
      online.push({ ip: null, port: parsePort(where, side) });
      continue;
    }
    const hp = parseHostPort(where, side);
    if (hp.port === null) throw new OptionError('BAD_FORMAT', `${where}: recording needs a port ([onlineIP:]port)`);
    online.push({ ip: hp.ip.text, port: hp.port });
  }
  return { online, targets };
}

const hostPort = (ip: string, port: number): string => `host ${ip} and port ${port}`;

/** `a`, or `(a or (b and c) ...)`. */
function anyOf(terms: readonly string[]): string {
  if (terms.length === 1) return terms[0] ?? '';
  return `(${terms.map((t) => (t.includes(' and ') ? `(${t})` : t)).join(' or ')})`;
}

/** The recording filter: both directions of every online endpoint, minus targets on those ports. */
export function buildRecordFilter(ports: RecordPorts): string {
  if (ports.online.length === 0) throw new RangeError('buildRecordFilter needs at least one online port');
  const include: string[] = [];
  for (const o of ports.online) {
    const term = o.ip === null ? `port ${o.port}` : hostPort(o.ip, o.port);
    if (!include.includes(term)) include.push(term);
  }
  const exclude: string[] = [];
  for (const t of ports.targets) {
    const caught = ports.online.some((o) => o.port === t.port && (o.ip === null || o.ip === t.ip));
    const term = hostPort(t.ip, t.port);
    if (caught && !exclude.includes(term)) exclude.push(term);
  }
  let filter = `tcp and ${anyOf(include)}`;
  if (exclude.length > 0) filter += ` and not ${exclude.length === 1 ? `(${exclude[0] ?? ''})` : anyOf(exclude)}`;
  return filter;
}

/** --record-size: MB (decimals allowed, e.g. 0.5), at least 64 KiB. */
function parseRecordSize(text: string): number {
  const trimmed = text.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(trimmed)) {
    const bytes = Math.round(Number(trimmed) * 1024 * 1024);
    if (bytes >= 64 * 1024 && bytes <= MAX_RECORD_SIZE_MB * 1024 * 1024) return bytes;
  }
  throw new OptionError(
    'OUT_OF_RANGE',
    `--record-size must be a number of MB from 0.0625 to ${MAX_RECORD_SIZE_MB} (got '${text}')`,
  );
}

/**
 * The recording configuration, or null without --record (then the other --record-* options are
 * refused). Throws OptionError.
 */
export function parseRecordConfig(raw: RecordRawOptions): RecordConfig | null {
  if (raw.record === undefined) {
    const stray =
      raw.recordSize !== undefined
        ? '--record-size'
        : raw.recordSeconds !== undefined
          ? '--record-seconds'
          : raw.recordFilter !== undefined
            ? '--record-filter'
            : null;
    if (stray !== null) throw new OptionError('MISSING_OPTION', `${stray} needs --record FILE`);
    return null;
  }
  if (raw.offline !== undefined)
    throw new OptionError(
      'CONFLICT',
      '--record records live traffic: it does not combine with --offline (the file is already a recording)',
    );
  const path = raw.record.trim();
  if (path === '') throw new OptionError('BAD_FORMAT', '--record must not be empty');
  if (path.endsWith('/'))
    throw new OptionError('BAD_FORMAT', `--record '${raw.record}' is a directory name, not a file`);
  let filter: string;
  let filterIsAuto: boolean;
  if (raw.recordFilter !== undefined) {
    if (raw.recordFilter.trim() === '') throw new OptionError('BAD_FORMAT', '--record-filter must not be empty');
    filter = raw.recordFilter;
    filterIsAuto = false;
  } else if (raw.transfer !== undefined) {
    filter = buildRecordFilter(parseRecordPorts(raw.transfer));
    filterIsAuto = true;
  } else {
    throw new OptionError(
      'MISSING_OPTION',
      '--record needs the ports to record: -x [onlineIP:]port,... or --record-filter BPF',
    );
  }
  return {
    path,
    filter,
    filterIsAuto,
    maxFileBytes: raw.recordSize === undefined ? null : parseRecordSize(raw.recordSize),
    maxFileMs:
      raw.recordSeconds === undefined
        ? null
        : parseSecondsOption('--record-seconds', raw.recordSeconds, 0.1, MAX_RECORD_SECONDS),
  };
}
