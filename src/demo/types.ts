// What a demo run reports, whichever way it ran.

export interface DemoOptions {
  /** Sequential curl requests of the first load (one keep-alive connection). Default 50. */
  requests: number;
  /** Requests of each ab load (short connections, then keep-alive), 20 concurrent. Default 5000. */
  abRequests?: number;
  /** Where the lines go (default: stdout). */
  out?: (line: string) => void;
}

export interface DemoLoadResult {
  name: string;
  online: number;
  replicated: number;
  ratio: number;
  onlineRps: number;
}

export interface DemoSummary {
  loads: DemoLoadResult[];
  /** Frames from the target that reached the client (must be 0). */
  leaked: number;
  tcpcopyExit: number | null;
  interceptExit: number | null;
  /** Every ratio ≥ 0.999, nothing leaked, both tools exited 0. */
  ok: boolean;
}

/** What the live demo gets: checked options and where its lines go. */
export interface LiveDemoOptions {
  readonly requests: number;
  readonly abRequests: number;
  readonly out: (line: string) => void;
}
