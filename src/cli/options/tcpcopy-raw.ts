// tcpcopy's options as the command-line parser hands them over: strings and booleans, unchecked.
import type { OfflineRawOptions } from './offline.js';
import type { RecordRawOptions } from './record.js';
import type { MysqlRawOptions } from './mysql.js';

/**
 * Option values as the parser hands them over: strings for values, booleans for flags (--record-*: RecordRawOptions).
 */
export interface TcpcopyRawOptions extends RecordRawOptions, OfflineRawOptions, MysqlRawOptions {
  transfer?: string;
  intercept?: string;
  interceptPort?: string;
  connections?: string;
  interface?: string;
  filter?: string;
  bufferSize?: string;
  snaplen?: string;
  mtu?: string;
  mss?: string;
  sessionTimeout?: string;
  keepaliveTimeout?: string;
  synOnly?: boolean;
  /** false when -W/--no-wait is given. */
  wait?: boolean;
  lonely?: boolean;
  lonelyGrace?: string;
  maxMemory?: string;
  maxBacklog?: string;
  logFile?: string;
  pidFile?: string;
  user?: string;
  daemon?: boolean;
  copies?: string;
  /** -f: which place range along the copy-port permutation this instance uses. */
  portFactor?: string;
  /** -g: seconds of the sampling ramp. */
  ramp?: string;
  percentage?: string;
  clientIp?: string;
  /** -H: the client address that replaces a loopback one. */
  localhostIp?: string;
  secret?: string;
  statsInterval?: string;
  /** --metrics [addr:]port */
  metrics?: string;
  /** --http [addr:]port: the live dashboard */
  http?: string;
  /** --compare-report FILE */
  compareReport?: string;
  /** --compare-ignore-path /a,/b */
  compareIgnorePath?: string;
  /** --compare-noise IP:PORT */
  compareNoise?: string;
  /** --compare-headers h1,h2 */
  compareHeaders?: string;
  /** --compare-ignore-json a.b,c */
  compareIgnoreJson?: string;
  /** --log-format text|json */
  logFormat?: string;
  /** -o: send at the data link of this device. */
  outputDevice?: string;
  /** --tcpcopy1: speak the C TCPCopy 1.x channel format. */
  tcpcopy1?: boolean;
  /** --responses FILE (socket transport) */
  responses?: string;
}
