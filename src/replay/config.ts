// What an offline replay is asked to do: the capture file, its timing, the transport and the report.

/** 'packet': raw IP send with intercept returning the replies; 'socket': ordinary TCP connections. */
export type Transport = 'packet' | 'socket';

export interface OfflineConfig {
  /** The capture file (pcap or pcapng). */
  readonly file: string;
  /** -a: speed-up factor (> 0, may be fractional). */
  readonly accel: number;
  /** -I: idle gaps longer than this are cut to it, ms; null = no compression. */
  readonly idleMs: number | null;
  /** -T: passes over the file. */
  readonly loops: number;
  /** --top-speed: ignore the capture's timing. */
  readonly topSpeed: boolean;
  /** --report-json: where to write the report as JSON; null = text only. */
  readonly reportJson: string | null;
  /** --pps: most packets released per second (packet transport); null = no cap. */
  readonly pps: number | null;
  /** --rps: most requests released per second; null = no cap. */
  readonly rps: number | null;
  /** --strict-file: a file cut short is refused; by default it is replayed up to the cut, with a warning. */
  readonly strictFile: boolean;
}
