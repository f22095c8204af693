// --compare-report, --compare-headers, --compare-ignore-json: the response comparison's settings.
// Pure. The comparison reads the target's reply payloads from intercept (refused with --tcpcopy1,
// whose channel carries none) and the online server's responses from the same capture; it frames
// the client streams as captured (refused with the MySQL mode, which rewrites them).
import { OptionError } from './errors.js';
import { parseHostPort } from './address.js';
import type { Transfer } from './transfer.js';
import type { CompareConfig } from '../../tcpcopy/config.js';

/** Bodies up to this size are kept whole for JSON comparison. */
const KEEP_BODY_BYTES = 256 * 1024;

export interface CompareRawOptions {
  compareReport?: string;
  compareNoise?: string;
  compareIgnorePath?: string;
  compareHeaders?: string;
  compareIgnoreJson?: string;
}

function list(flag: string, text: string, item: RegExp): string[] {
  const items = text.split(',').map((s) => s.trim());
  for (const i of items) {
    if (!item.test(i)) throw new OptionError('BAD_FORMAT', `${flag}: '${i}' is not a valid item of '${text}'`);
  }
  return [...new Set(items)];
}

export function parseCompareConfig(
  raw: CompareRawOptions,
  ctx: {
    readonly mysql: boolean;
    readonly tcpcopy1: boolean;
    readonly transfers?: readonly Transfer[];
    /** --transport socket: one target, no noise target (it replays to one). */
    readonly socket?: boolean;
  },
): CompareConfig | null {
  if (raw.compareReport === undefined) {
    for (const [flag, v] of [
      ['--compare-headers', raw.compareHeaders],
      ['--compare-ignore-json', raw.compareIgnoreJson],
      ['--compare-noise', raw.compareNoise],
      ['--compare-ignore-path', raw.compareIgnorePath],
    ] as const) {
      if (v !== undefined) throw new OptionError('CONFLICT', `${flag} needs --compare-report FILE`);
    }
    return null;
  }
  if (raw.compareReport.trim() === '') throw new OptionError('BAD_FORMAT', '--compare-report: empty file name');
  if (ctx.mysql) {
    throw new OptionError(
      'CONFLICT',
      '--compare-report compares HTTP/1.x exchanges; the MySQL mode rewrites the client streams it would frame',
    );
  }
  if (ctx.tcpcopy1) {
    throw new OptionError(
      'CONFLICT',
      '--compare-report: the TCPCopy 1.x channel (--tcpcopy1) carries no reply payload',
    );
  }
  return {
    reportFile: raw.compareReport,
    headers:
      raw.compareHeaders === undefined
        ? ['content-type']
        : [
            ...new Set(
              list('--compare-headers', raw.compareHeaders, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/).map((h) =>
                h.toLowerCase(),
              ),
            ),
          ],
    ignoreJson:
      raw.compareIgnoreJson === undefined
        ? []
        : list('--compare-ignore-json', raw.compareIgnoreJson, /^[^.\s]+(\.[^.\s]+)*$/),
    keepBodyBytes: KEEP_BODY_BYTES,
    ignorePaths:
      raw.compareIgnorePath === undefined ? [] : list('--compare-ignore-path', raw.compareIgnorePath, /^\/\S*$/),
    noiseTarget: raw.compareNoise === undefined ? null : noiseTarget(raw.compareNoise, ctx.transfers ?? [], ctx.socket),
  };
}

/**
 * --compare-noise IP:PORT: one of -x's targets, serving the online build; another target of the
 * same online port must be under test. Returns its canonical `ip:port` (`[ip6]:port`).
 */
function noiseTarget(text: string, transfers: readonly Transfer[], socket = false): string {
  if (socket) throw new OptionError('CONFLICT', '--compare-noise: --transport socket replays to one target');
  const hp = parseHostPort('--compare-noise', text);
  if (hp.port === null) throw new OptionError('BAD_FORMAT', `--compare-noise: '${text}' has no port (give IP:PORT)`);
  const name = hp.ip.family === 6 ? `[${hp.ip.text}]:${hp.port}` : `${hp.ip.text}:${hp.port}`;
  const mine = transfers.filter((t) => t.target.ip.text === hp.ip.text && t.target.port === hp.port);
  if (mine.length === 0) {
    throw new OptionError(
      'CONFLICT',
      `--compare-noise ${name} is not a target of -x (list it there too: 80-T:P,80-${name})`,
    );
  }
  const others = transfers.some(
    (t) =>
      !(t.target.ip.text === hp.ip.text && t.target.port === hp.port) &&
      mine.some((m) => m.online.port === t.online.port),
  );
  if (!others) {
    throw new OptionError(
      'CONFLICT',
      `--compare-noise ${name}: no other target of the same online port is under test (-x 80-T:P,80-${name})`,
    );
  }
  return name;
}
