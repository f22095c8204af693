// What the Replicator needs to run: where to capture, what to copy where, how to emulate the
// clients and how to reach intercept. The command line builds it (with units in the names).
import type { MysqlModeConfig } from '../mysql-replay/index.js';
import type { IpAddress } from '../packet/index.js';
import type { Transfer } from './transfer.js';

export interface InterceptAddress {
  readonly ip: IpAddress;
  readonly port: number;
}

export interface ReplicatorConfig {
  /** -x: what to copy where. */
  readonly transfers: readonly Transfer[];
  /** -F, or the filter built from -x. */
  readonly captureFilter: string;
  /** -s with ports defaulted to -p. */
  readonly intercepts: readonly InterceptAddress[];
  /** -C: connections to each intercept. */
  readonly connectionsPerIntercept: number;
  /** -i: capture devices; empty = every device. */
  readonly interfaces: readonly string[];
  /** -B */
  readonly captureBufferBytes: number;
  /** -S */
  readonly snaplenBytes: number;
  /** -M: largest IP packet sent to the target; bigger captured packets are re-segmented. */
  readonly mtuBytes: number;
  /** -D: MSS option of synthesized SYNs. */
  readonly mssBytes: number;
  /** -t */
  readonly sessionTimeoutMs: number;
  /** -k */
  readonly keepaliveTimeoutMs: number;
  /** -O: replay only sessions whose SYN was captured. */
  readonly synRequired: boolean;
  /** false with -W: send the next request without waiting for the previous response. */
  readonly waitForResponse: boolean;
  /** --max-backlog: bound on the captured bytes all sessions hold for replay (0: none). */
  readonly maxBacklogBytes: number;
  /** -n: copies of each session (1 = plain replication). */
  readonly copies: number;
  /**
   * -f: this instance's copies take the places factor·n .. factor·n + n − 1 along each client port's
   * permutation, so instances with different factors copying the same clients to one target never
   * pick the same port for the same session (0: the original port first).
   */
  readonly portFactor: number;
  /** -g: the share of sessions copied ramps from 1 % to -r's over this many ms from the first packet; 0: none. */
  readonly rampMs: number;
  /** -r: percentage of sessions copied. */
  readonly samplePercent: number;
  /** -c: client source addresses to substitute; empty = keep the real client address. */
  readonly clientAddresses: readonly IpAddress[];
  /** -H: the client address that replaces a loopback one (before -c); null = keep it. */
  readonly localhostAddress: IpAddress | null;
  /** --secret or TCPCOPY_SECRET; null = none. */
  readonly secret: string | null;
  /** --stats-interval; 0 = only the final summary. */
  readonly statsIntervalMs: number;
  /**
   * -o: send the copies as Ethernet frames on this device (the online host's IP layer is bypassed),
   * with the MACs of the -x items; null = raw IP send.
   */
  readonly outputDevice: string | null;
  /** --tcpcopy1: talk to intercept in the C TCPCopy 1.x channel format (IPv4 only, no authentication). */
  readonly tcpcopy1: boolean;
  /** --mysql / --mysql-file / --mysql-skip-grant: re-sign MySQL logins for the target; null = off. */
  readonly mysql: MysqlModeConfig | null;
  /** --compare-report: compare the online server's responses with the target's; null = off. */
  readonly compare?: CompareConfig | null;
}

/** The response comparison's settings (src/compare/). */
export interface CompareConfig {
  /** Where the JSON report is written at exit. */
  readonly reportFile: string;
  /** Header fields compared, lower case. */
  readonly headers: readonly string[];
  /** JSON paths left out (`a.b`, `items.*.ts`). */
  readonly ignoreJson: readonly string[];
  /** Request paths (prefixes) not compared (`/health`). */
  readonly ignorePaths?: readonly string[];
  /** Bodies kept whole up to this size (JSON comparison). */
  readonly keepBodyBytes: number;
  /**
   * --compare-noise: a target (`ip:port`, `[ip6]:port`) running the online build; the differences it
   * shows are noise, marked in the other targets' reports; null: none.
   */
  readonly noiseTarget?: string | null;
}
