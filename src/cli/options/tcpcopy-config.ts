// tcpcopy's validated configuration: turns the raw option strings (as the command-line parser
// hands them over) into a typed TcpcopyConfig with units in the names, or throws one OptionError
// with a one-line message. Pure: the environment and this machine's addresses come in as inputs.

import { parseMetricsAddress } from './metrics.js';
import { parseLogFormat } from './log-format.js';
import type { LogFormat } from './log-format.js';
import type { MetricsAddress } from './metrics.js';
import { findSecret, SECRET_ENV_VAR } from '../../channel/auth.js';
import { DEFAULT_CHANNEL_PORT } from '../../channel/messages.js';
import { formatIpv6, ipv4ToString, parseIpv4Address, parseIpv6Address } from '../../packet/index.js';
import { isUnicast, parseHostPort, parseIp, splitList } from './address.js';
import { checkModeOptions } from './modes.js';
import type { HostResolver } from './address.js';
import type { IpAddress } from './address.js';
import { buildCaptureFilter } from './bpf.js';
import { parseCompareConfig } from './compare.js';
import { OptionError } from './errors.js';
import { parseMysqlMode } from './mysql.js';
import { parseInterfaces } from './interfaces.js';
import { parseIntegerOption, parseSecondsOption } from './numbers.js';
import { formatTransfer, parseTransfers } from './transfer.js';
import type { Transfer } from './transfer.js';
// --record: recording options, parsed in ./record.ts.
import { parseRecordConfig } from './record.js';
import type { RecordConfig } from './record.js';
// --offline, -a, -I, -T, --top-speed, --pps, --rps, --report-json, --transport: parsed in ./offline.ts.
import { parseOfflineConfig, parseTransport } from './offline.js';
import type { TcpcopyRawOptions } from './tcpcopy-raw.js';
import type { OfflineRunConfig } from '../../replay/run.js';
import type { InterceptAddress } from '../../tcpcopy/config.js';

export type { TcpcopyRawOptions };

/** Environment variable read when --secret is absent (shared with intercept). */
export const SECRET_ENV = SECRET_ENV_VAR;
/** TCPCopy's default intercept port (`SERVER_PORT`). */
export const DEFAULT_INTERCEPT_PORT = DEFAULT_CHANNEL_PORT;
/** TCPCopy's limit on -s items (`MAX_REAL_SERVERS`). */
export const MAX_INTERCEPTS = 32;
/** TCPCopy's limit on -c addresses (`M_IP_NUM`). */
export const MAX_CLIENT_ADDRESSES = 4096;

/** Defaults, in the units of the command line (seconds, MB, bytes). */
export const TCPCOPY_DEFAULTS = {
  interceptPort: DEFAULT_INTERCEPT_PORT,
  connectionsPerIntercept: 2,
  captureBufferMb: 16,
  snaplenBytes: 65535,
  mtuBytes: 1500,
  mssBytes: 1460,
  sessionTimeoutS: 600,
  /**
   * -t with --transport socket: a replayed session waits this long for its connection or a reply
   * byte (the replayer's own default). Not given is told by the raw -t being undefined.
   */
  socketSessionTimeoutS: 10,
  /** -k defaults to -t plus this. */
  keepaliveAddS: 120,
  maxMemoryMb: 2048,
  /** --max-backlog: captured bytes held for replay, MiB (below -m, so shedding comes before the memory exit). */
  maxBacklogMb: 512,
  /** Without -L: seconds tcpcopy runs on with no intercept connection authenticated. */
  lonelyGraceS: 30,
  copies: 1,
  samplePercent: 100,
  statsIntervalS: 30,
} as const;

export interface TcpcopyInputs {
  /** Environment variables (only SECRET_ENV is read). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** This machine's addresses, to refuse a target that is the online server itself. */
  readonly localAddresses?: readonly IpAddress[];
  /** Whether a path is a regular file: -i FILE then means offline replay. Default: never. */
  readonly isRegularFile?: (path: string) => boolean;
  /** Host names in -x and -s, resolved before (hostNamesIn). Default: only addresses are accepted. */
  readonly resolveHost?: HostResolver;
}

export interface TcpcopyConfig extends OfflineRunConfig {
  readonly captureFilterIsAuto: boolean;
  /** -p */
  readonly interceptPort: number;
  /** -L: keep running while no intercept is connected. */
  readonly lonely: boolean;
  /** -m */
  readonly maxMemoryBytes: number;
  /** -l; null = standard error. */
  readonly logFile: string | null;
  /** -P */
  readonly pidFile: string | null;
  /** --user: run as this user once the capture and raw sockets are open (null: stay as started). */
  readonly user: string | null;
  /** -d */
  readonly daemon: boolean;
  /** --record: also record both directions of the online ports; null = no recording. */
  readonly record: RecordConfig | null;
  /** --metrics: where the Prometheus metrics are served; null = not served. */
  readonly metrics: MetricsAddress | null;
  /** --http: where the live dashboard is served; null = not served. */
  readonly http: MetricsAddress | null;
  /** --log-format */
  readonly logFormat: LogFormat;
}

function nonEmpty(flag: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new OptionError('BAD_FORMAT', `${flag} must not be empty`);
  return value;
}

function parseIntercepts(text: string, defaultPort: number, resolve: HostResolver | undefined): InterceptAddress[] {
  const items = splitList('-s', text);
  if (items.length > MAX_INTERCEPTS) {
    throw new OptionError('OUT_OF_RANGE', `-s: at most ${MAX_INTERCEPTS} intercepts (got ${items.length})`);
  }
  const out: InterceptAddress[] = [];
  for (const item of items) {
    const hp = parseHostPort(`-s '${item}'`, item, resolve);
    if (!isUnicast(hp.ip)) throw new OptionError('BAD_ADDRESS', `-s '${item}': ${hp.ip.text} is not a unicast address`);
    const entry = { ip: hp.ip, port: hp.port ?? defaultPort };
    if (out.some((o) => o.ip.text === entry.ip.text && o.port === entry.port)) {
      throw new OptionError('CONFLICT', `-s '${item}': this intercept is listed twice`);
    }
    out.push(entry);
  }
  return out;
}

/** -c items: addresses, or `a.b.c.x` for a.b.c.1 .. a.b.c.254; target addresses are skipped. */
function parseClientAddresses(text: string, transfers: readonly Transfer[]): IpAddress[] {
  const targets = new Set(transfers.map((t) => t.target.ip.text));
  const out: IpAddress[] = [];
  const seen = new Set<string>();
  const add = (ip: IpAddress): void => {
    if (targets.has(ip.text) || seen.has(ip.text)) return;
    seen.add(ip.text);
    out.push(ip);
  };
  for (const item of splitList('-c', text)) {
    if (item.includes('/')) {
      for (const ip of cidrAddresses(item)) add(ip);
    } else if (/\.x$/i.test(item)) {
      const prefix = item.slice(0, -2);
      parseIp(`-c '${item}'`, `${prefix}.1`);
      for (let i = 1; i <= 254; i++) add(parseIp('-c', `${prefix}.${i}`));
    } else {
      add(parseIp(`-c '${item}'`, item));
    }
    if (out.length > MAX_CLIENT_ADDRESSES) {
      throw new OptionError('OUT_OF_RANGE', `-c: at most ${MAX_CLIENT_ADDRESSES} client addresses`);
    }
  }
  // Every address given was a target's: the rewrite would silently do nothing.
  if (out.length === 0)
    throw new OptionError(
      'CONFLICT',
      `-c '${text}': every address is a target address (skipped as a client): no client address is left to rewrite to`,
    );
  return out;
}

/** -H: a unicast address that is not loopback and not a target's (the target must answer it). */
function parseLocalhostAddress(text: string, transfers: readonly Transfer[]): IpAddress {
  const ip = parseIp('-H', text);
  if (isLoopback(ip)) throw new OptionError('BAD_ADDRESS', `-H '${text}': a loopback address cannot reach the target`);
  if (!isUnicast(ip)) throw new OptionError('BAD_ADDRESS', `-H '${text}': not a unicast address`);
  if (transfers.some((t) => t.target.ip.text === ip.text)) {
    throw new OptionError('CONFLICT', `-H '${text}' is a target address: the target would answer itself`);
  }
  return ip;
}

/** 127.0.0.0/8 or ::1 (or ::ffff:127.x.y.z). */
export function isLoopback(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.text.startsWith('127.') : ip.text === '::1' || ip.text.startsWith('::ffff:127.');
}

/** Host bits a -c block may have (2^12 = 4096 = MAX_CLIENT_ADDRESSES addresses). */
const MAX_BLOCK_HOST_BITS = 12;

/**
 * -c's `address/prefix` blocks: the block's addresses, without IPv4's network and broadcast
 * addresses (kept in a /31 or /32) and without IPv6's all-zero subnet-router address.
 */
function cidrAddresses(item: string): IpAddress[] {
  const slash = item.lastIndexOf('/');
  const base = parseIp(`-c '${item}'`, item.slice(0, slash));
  const lengthText = item.slice(slash + 1);
  const width = base.family === 4 ? 32 : 128;
  const prefix = /^[0-9]{1,3}$/.test(lengthText) ? Number(lengthText) : -1;
  if (prefix < 0 || prefix > width) {
    throw new OptionError('BAD_ADDRESS', `-c '${item}': the prefix length must be 0..${width}`);
  }
  const hostBits = width - prefix;
  if (hostBits > MAX_BLOCK_HOST_BITS) {
    throw new OptionError(
      'OUT_OF_RANGE',
      `-c '${item}': a /${prefix} holds 2^${hostBits} addresses; at most ${MAX_CLIENT_ADDRESSES} client addresses (/${width - MAX_BLOCK_HOST_BITS} or longer)`,
    );
  }
  const count = 2 ** hostBits;
  const out: IpAddress[] = [];
  if (base.family === 4) {
    const network = (parseIpv4Address(base.text) & ~(count - 1)) >>> 0;
    for (let i = 0; i < count; i++) {
      if (hostBits >= 2 && (i === 0 || i === count - 1)) continue;
      out.push({ text: ipv4ToString((network + i) >>> 0), family: 4 });
    }
    return out;
  }
  const bytes = parseIpv6Address(base.text);
  // At most 12 host bits: they sit in the last two bytes.
  const last = bytes.readUInt16BE(14) & ~(count - 1) & 0xffff;
  for (let i = hostBits > 0 ? 1 : 0; i < count; i++) {
    const b = Buffer.from(bytes);
    b.writeUInt16BE((last + i) & 0xffff, 14);
    out.push({ text: formatIpv6(b, 0), family: 6 });
  }
  return out;
}

/** True for a MAC whose group bit is set (multicast, broadcast) or that is all zeros. */
function isNotUnicastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) !== 0 || mac === '00:00:00:00:00:00';
}

/**
 * -o DEV and the MAC form of -x go together: -o needs a MAC on both sides of every item (the
 * online MAC is the frames' source, the target MAC the next hop towards the target), MACs without
 * -o are refused, and one target address has one pair of MACs.
 */
function parseOutputDevice(text: string | undefined, transfers: readonly Transfer[]): string | null {
  const withMacs = transfers.filter((t) => t.target.mac !== null);
  if (text === undefined) {
    const first = withMacs[0];
    if (first !== undefined) {
      throw new OptionError(
        'CONFLICT',
        `-x '${formatTransfer(first)}': MACs are used only for data-link sending: add -o DEV (the device to send on)`,
      );
    }
    return null;
  }
  if (text.trim() === 'any') throw new OptionError('BAD_FORMAT', "-o: data-link sending needs one device, not 'any'");
  const devices = parseInterfaces('-o', text);
  if (devices.length !== 1) throw new OptionError('BAD_FORMAT', `-o: one device, got '${text}'`);
  const device = devices[0]!;
  for (const t of transfers) {
    if (t.online.mac === null || t.target.mac === null) {
      throw new OptionError(
        'MISSING_OPTION',
        `-o ${device} sends at the data link: -x '${formatTransfer(t)}' needs MACs, [onlineIP:]port@onlineMAC-targetIP:targetPort@nextHopMAC`,
      );
    }
    for (const [what, mac] of [
      ['online', t.online.mac],
      ['next-hop', t.target.mac],
    ] as const) {
      if (isNotUnicastMac(mac))
        throw new OptionError('BAD_MAC', `-x '${formatTransfer(t)}': the ${what} MAC ${mac} is not a unicast MAC`);
    }
  }
  const byTarget = new Map<string, Transfer>();
  for (const t of transfers) {
    const other = byTarget.get(t.target.ip.text);
    if (other === undefined) {
      byTarget.set(t.target.ip.text, t);
    } else if (other.online.mac !== t.online.mac || other.target.mac !== t.target.mac) {
      throw new OptionError(
        'CONFLICT',
        `-x '${formatTransfer(t)}': target ${t.target.ip.text} has other MACs in '${formatTransfer(other)}'`,
      );
    }
  }
  return device;
}

/** Validates tcpcopy's options; throws OptionError with a one-line message. */
export function validateTcpcopyOptions(raw: TcpcopyRawOptions, inputs: TcpcopyInputs = {}): TcpcopyConfig {
  const d = TCPCOPY_DEFAULTS;
  if (raw.transfer === undefined) {
    throw new OptionError(
      'MISSING_OPTION',
      'tcpcopy needs -x [onlineIP:]port-targetIP:targetPort (what to copy and where to)',
    );
  }
  const transfers = parseTransfers(raw.transfer, inputs.localAddresses ?? [], inputs.resolveHost);
  const outputDevice = parseOutputDevice(raw.outputDevice, transfers);
  // the socket transport needs no intercept.
  const offline = parseOfflineConfig(raw, inputs.isRegularFile ?? (() => false));
  const transport = parseTransport(raw.transport);
  checkModeOptions(raw, { offline: offline !== null, transport });
  if (raw.intercept === undefined && transport !== 'socket') {
    throw new OptionError(
      'MISSING_OPTION',
      "tcpcopy needs -s interceptIP[:port] (where intercept returns the target's responses)",
    );
  }
  const interceptPort =
    raw.interceptPort === undefined ? d.interceptPort : parseIntegerOption('-p', raw.interceptPort, 1, 65535);
  const intercepts =
    raw.intercept === undefined ? [] : parseIntercepts(raw.intercept, interceptPort, inputs.resolveHost);
  const userFilter = nonEmpty('-F', raw.filter);
  const mtuBytes = raw.mtu === undefined ? d.mtuBytes : parseIntegerOption('-M', raw.mtu, 576, 65535);
  // Without -D the MSS follows -M (an IPv4 header and a TCP header less than the MTU).
  const mssBytes =
    raw.mss === undefined ? Math.min(d.mssBytes, mtuBytes - 40) : parseIntegerOption('-D', raw.mss, 64, 65495);
  if (mssBytes > mtuBytes - 40) {
    throw new OptionError(
      'CONFLICT',
      `-D ${mssBytes} does not fit the MTU: -M ${mtuBytes} allows an MSS of at most ${mtuBytes - 40}`,
    );
  }
  // Without -t each transport keeps its own default: 600 s of no response for the packet transport's
  // sessions, 10 s of waiting for a connection or reply byte for the socket transport's.
  const sessionTimeoutMs =
    raw.sessionTimeout === undefined
      ? (transport === 'socket' ? d.socketSessionTimeoutS : d.sessionTimeoutS) * 1000
      : parseIntegerOption('-t', raw.sessionTimeout, 1, 86400) * 1000;
  const keepaliveTimeoutMs =
    raw.keepaliveTimeout === undefined
      ? sessionTimeoutMs + d.keepaliveAddS * 1000
      : parseIntegerOption('-k', raw.keepaliveTimeout, 1, 86400) * 1000;
  const copies = raw.copies === undefined ? d.copies : parseIntegerOption('-n', raw.copies, 1, 1023);
  const portFactor = raw.portFactor === undefined ? 0 : parseIntegerOption('-f', raw.portFactor, 0, 1023);
  // Instance F's copies take the places F·n .. F·n + n − 1 of 64,512: past them they would wrap onto 0's.
  if ((portFactor + 1) * copies > 64_512) {
    throw new OptionError(
      'OUT_OF_RANGE',
      `-f ${portFactor} with -n ${copies}: (factor + 1) × copies must be at most 64512 (the client ports a copy can take)`,
    );
  }
  const secret = findSecret(nonEmpty('--secret', raw.secret), inputs.env);
  const mysql = parseMysqlMode(raw, { tcpcopy1: raw.tcpcopy1 === true, socket: transport === 'socket' });
  const compare = parseCompareConfig(raw, {
    mysql: mysql !== null,
    tcpcopy1: raw.tcpcopy1 === true,
    transfers,
    socket: transport === 'socket',
  });
  return {
    transfers,
    // --mysql also captures the online answers to prepared statements (a -F filter must name them itself).
    captureFilter:
      userFilter ??
      buildCaptureFilter(transfers, {
        mysql: mysql !== null,
        mysqlAnswers: mysql?.orderWrites === true,
        onlineReplies: compare !== null,
      }),
    captureFilterIsAuto: userFilter === null,
    intercepts,
    interceptPort,
    connectionsPerIntercept:
      raw.connections === undefined ? d.connectionsPerIntercept : parseIntegerOption('-C', raw.connections, 1, 11),
    interfaces: offline !== null ? [] : parseInterfaces('-i', raw.interface),
    captureBufferBytes:
      (raw.bufferSize === undefined ? d.captureBufferMb : parseIntegerOption('-B', raw.bufferSize, 1, 2047)) *
      1024 *
      1024,
    snaplenBytes: raw.snaplen === undefined ? d.snaplenBytes : parseIntegerOption('-S', raw.snaplen, 68, 65535),
    mtuBytes,
    mssBytes,
    sessionTimeoutMs,
    keepaliveTimeoutMs,
    synRequired: raw.synOnly === true,
    waitForResponse: raw.wait !== false,
    lonely: raw.lonely === true,
    lonelyGraceMs:
      raw.lonelyGrace === undefined
        ? d.lonelyGraceS * 1000
        : parseSecondsOption('--lonely-grace', raw.lonelyGrace, 0.1, 86400),
    maxMemoryBytes:
      (raw.maxMemory === undefined ? d.maxMemoryMb : parseIntegerOption('-m', raw.maxMemory, 16, 1048576)) *
      1024 *
      1024,
    maxBacklogBytes:
      (raw.maxBacklog === undefined
        ? d.maxBacklogMb
        : parseIntegerOption('--max-backlog', raw.maxBacklog, 0, 1048576)) *
      1024 *
      1024,
    logFile: nonEmpty('-l', raw.logFile),
    pidFile: nonEmpty('-P', raw.pidFile),
    user: nonEmpty('--user', raw.user),
    daemon: raw.daemon === true,
    copies,
    portFactor,
    rampMs: raw.ramp === undefined ? 0 : 1000 * parseIntegerOption('-g', raw.ramp, 1, 86_400),
    samplePercent: raw.percentage === undefined ? d.samplePercent : parseIntegerOption('-r', raw.percentage, 1, 100),
    clientAddresses: raw.clientIp === undefined ? [] : parseClientAddresses(raw.clientIp, transfers),
    localhostAddress: raw.localhostIp === undefined ? null : parseLocalhostAddress(raw.localhostIp, transfers),
    secret,
    statsIntervalMs: raw.statsInterval === undefined ? d.statsIntervalS * 1000 : parseStatsInterval(raw.statsInterval),
    outputDevice,
    tcpcopy1: tcpcopy1Mode(raw.tcpcopy1, transfers),
    record: parseRecordConfig(raw), // --record
    offline,
    transport,
    responsesFile: nonEmpty('--responses', raw.responses),
    mysql,
    compare,
    metrics: parseMetricsAddress(raw.metrics),
    http: parseMetricsAddress(raw.http, '--http'),
    logFormat: parseLogFormat(raw.logFormat),
  };
}

/** --tcpcopy1: the C channel format carries IPv4 sessions only. */
function tcpcopy1Mode(flag: boolean | undefined, transfers: readonly Transfer[]): boolean {
  if (flag !== true) return false;
  const v6 = transfers.find((t) => t.target.ip.family !== 4);
  if (v6 !== undefined)
    throw new OptionError(
      'CONFLICT',
      `--tcpcopy1: the TCPCopy 1.x channel carries IPv4 sessions only, -x target ${v6.target.ip.text} is IPv6`,
    );
  return true;
}

/** --stats-interval: seconds, 0 = no periodic output. Shared with intercept. */
export function parseStatsInterval(text: string): number {
  if (text.trim() === '0') return 0;
  return parseSecondsOption('--stats-interval', text, 0.1, 86400);
}
