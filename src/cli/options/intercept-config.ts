// intercept's validated configuration: raw option strings in, a typed InterceptConfig out, or one
// OptionError with a one-line message. Pure: the environment comes in as an input.

import { findSecret } from '../../channel/auth.js';
import { parseIp, parsePort, splitList } from './address.js';
import type { IpAddress } from './address.js';
import type { InterceptConfig } from '../../intercept/config.js';
import { OptionError } from './errors.js';

export type { InterceptConfig };
import { parseInterfaces } from './interfaces.js';
import { parseMetricsAddress } from './metrics.js';
import { parseLogFormat } from './log-format.js';
import { parseIntegerOption } from './numbers.js';
import { DEFAULT_INTERCEPT_PORT, TCPCOPY_DEFAULTS, parseStatsInterval } from './tcpcopy-config.js';

export interface InterceptRawOptions {
  interface?: string;
  filter?: string;
  port?: string;
  bind?: string;
  logFile?: string;
  pidFile?: string;
  user?: string;
  daemon?: boolean;
  secret?: string;
  statsInterval?: string;
  /** --metrics [addr:]port */
  metrics?: string;
  /** --log-format text|json */
  logFormat?: string;
  /** --tcpcopy1 / --tcpcopy1-allow. */
  tcpcopy1?: boolean;
  tcpcopy1Allow?: string;
  /** --nfqueue / --queue-num / -x (traditional mode). */
  nfqueue?: string;
  queueNum?: string;
  passlist?: string;
  /** --reply-payload BYTES */
  replyPayload?: string;
}

export interface InterceptInputs {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Reply payload bytes forwarded to sessions that ask (--reply-payload) by default, and at most. */
export const DEFAULT_REPLY_PAYLOAD_BYTES = 512;
export const MAX_REPLY_PAYLOAD_BYTES = 2048;

/** The NFQUEUE number traditional intercept binds by default. */
export const DEFAULT_QUEUE_NUM = 0;

/** --nfqueue PORT[,PORT...]: distinct service ports. */
function parseNfqueuePorts(text: string | undefined): number[] {
  if (text === undefined) return [];
  const ports = splitList('--nfqueue', text).map((item) => parsePort(`--nfqueue '${item}'`, item));
  return [...new Set(ports)];
}

/** The -F text of traditional mode: what the queued replies are (for the log and --print-config). */
export function nfqueueFilterText(ports: readonly number[]): string {
  return `tcp and (${ports.map((p) => `src port ${p}`).join(' or ')})`;
}

function nonEmpty(flag: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new OptionError('BAD_FORMAT', `${flag} must not be empty`);
  return value;
}

/** Validates intercept's options; throws OptionError with a one-line message. */
export function validateInterceptOptions(raw: InterceptRawOptions, inputs: InterceptInputs = {}): InterceptConfig {
  const nfqueuePorts = parseNfqueuePorts(raw.nfqueue);
  const traditional = nfqueuePorts.length > 0;
  if (traditional && raw.filter !== undefined)
    throw new OptionError(
      'CONFLICT',
      '-F selects captured replies; with --nfqueue the replies are queued by their source port: drop -F',
    );
  if (traditional && raw.interface !== undefined)
    throw new OptionError(
      'CONFLICT',
      '-i selects capture devices; --nfqueue queues the replies on the target itself: drop -i',
    );
  if (traditional && raw.user !== undefined)
    throw new OptionError(
      'CONFLICT',
      '--user with --nfqueue: not yet (the NFQUEUE rule is removed on stop by iptables, which needs root)',
    );
  if (!traditional && raw.queueNum !== undefined) throw new OptionError('CONFLICT', '--queue-num needs --nfqueue');
  if (!traditional && raw.passlist !== undefined)
    throw new OptionError('CONFLICT', "-x lets replies through intercept's NFQUEUE: it needs --nfqueue");
  const filter = traditional ? nfqueueFilterText(nfqueuePorts) : nonEmpty('-F', raw.filter);
  if (filter === null) {
    throw new OptionError(
      'MISSING_OPTION',
      "intercept needs -F <filter> selecting the target's responses, e.g. -F 'tcp and src port 8080'",
    );
  }
  return {
    interfaces: parseInterfaces('-i', raw.interface),
    captureFilter: filter,
    listenPort: raw.port === undefined ? DEFAULT_INTERCEPT_PORT : parseIntegerOption('-p', raw.port, 1, 65535),
    bindAddress: raw.bind === undefined ? null : parseIp('-b', raw.bind),
    logFile: nonEmpty('-l', raw.logFile),
    pidFile: nonEmpty('-P', raw.pidFile),
    user: nonEmpty('--user', raw.user),
    daemon: raw.daemon === true,
    secret: findSecret(nonEmpty('--secret', raw.secret), inputs.env),
    statsIntervalMs:
      raw.statsInterval === undefined ? TCPCOPY_DEFAULTS.statsIntervalS * 1000 : parseStatsInterval(raw.statsInterval),
    tcpcopy1: raw.tcpcopy1 === true,
    tcpcopy1AllowedPeers: parseTcpcopy1Allow(raw.tcpcopy1 === true, raw.tcpcopy1Allow),
    nfqueuePorts,
    queueNum:
      raw.queueNum === undefined ? DEFAULT_QUEUE_NUM : parseIntegerOption('--queue-num', raw.queueNum, 0, 65535),
    passList:
      raw.passlist === undefined ? [] : splitList('-x', raw.passlist).map((item) => parseIp(`-x '${item}'`, item)),
    replyPayloadBytes: parseReplyPayload(raw.tcpcopy1 === true, raw.replyPayload),
    metrics: parseMetricsAddress(raw.metrics),
    logFormat: parseLogFormat(raw.logFormat),
  };
}

/** --reply-payload BYTES: 0..MAX; the C tool's channel (--tcpcopy1) carries no payload. */
function parseReplyPayload(tcpcopy1: boolean, text: string | undefined): number {
  if (text === undefined) return tcpcopy1 ? 0 : DEFAULT_REPLY_PAYLOAD_BYTES;
  const n = parseIntegerOption('--reply-payload', text, 0, MAX_REPLY_PAYLOAD_BYTES);
  if (tcpcopy1 && n > 0)
    throw new OptionError(
      'CONFLICT',
      "--reply-payload: the TCPCopy 1.x channel (--tcpcopy1) carries reply headers only (tcpcopy's MySQL mode needs this channel)",
    );
  return n;
}

/** --tcpcopy1-allow ip,...: only with --tcpcopy1 (the authenticated channel has its secret instead). */
function parseTcpcopy1Allow(tcpcopy1: boolean, text: string | undefined): IpAddress[] {
  if (text === undefined) return [];
  if (!tcpcopy1)
    throw new OptionError(
      'CONFLICT',
      '--tcpcopy1-allow restricts the unauthenticated TCPCopy 1.x channel: it needs --tcpcopy1',
    );
  return splitList('--tcpcopy1-allow', text).map((item) => parseIp(`--tcpcopy1-allow '${item}'`, item));
}
