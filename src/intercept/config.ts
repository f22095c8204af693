// What the intercept service needs to run: where the target's replies come from (capture or
// NFQUEUE), where tcpcopy connects, and the channel's format and secret. The command line builds it.
import type { IpAddress } from '../packet/index.js';

export interface InterceptConfig {
  /** -i: capture devices; empty = every device. */
  readonly interfaces: readonly string[];
  /** -F: BPF filter selecting the target's responses. */
  readonly captureFilter: string;
  /** -p: port tcpcopy connects to. */
  readonly listenPort: number;
  /** -b: listen address; null = every address. */
  readonly bindAddress: IpAddress | null;
  readonly logFile: string | null;
  readonly pidFile: string | null;
  /** --user: run as this user once the capture is open (null: stay as started). */
  readonly user: string | null;
  readonly daemon: boolean;
  /** --secret or TCPCOPY_SECRET; null = none. */
  readonly secret: string | null;
  /** --stats-interval; 0 = only the final summary. */
  readonly statsIntervalMs: number;
  /** --tcpcopy1: serve tcpcopy in the C TCPCopy 1.x channel format (IPv4 only, no authentication). */
  readonly tcpcopy1: boolean;
  /** --tcpcopy1-allow: peer addresses allowed in compatibility mode; empty = any. */
  readonly tcpcopy1AllowedPeers: readonly IpAddress[];
  /**
   * --nfqueue: traditional mode on the target itself — the service ports whose replies are queued
   * (iptables -j NFQUEUE) instead of captured; empty = capture mode (-i/-F).
   */
  readonly nfqueuePorts: readonly number[];
  /** --queue-num: the NFQUEUE number (default 0). */
  readonly queueNum: number;
  /** -x: client addresses whose replies pass to them untouched (traditional mode). */
  readonly passList: readonly IpAddress[];
  /**
   * --reply-payload: most bytes of each reply's payload forwarded to the sessions that ask for them
   * (tcpcopy's MySQL mode reads the server's greeting and login answers); 0 = headers only.
   */
  readonly replyPayloadBytes: number;
  /** --metrics: where the Prometheus metrics are served (host null: every address); null = not served. */
  readonly metrics: { readonly host: string | null; readonly port: number } | null;
  /** --log-format: the C tool's lines or JSON records. */
  readonly logFormat: 'text' | 'json';
}
