// The life of a tcpcopy or intercept process around its service: pid file, start, report to the
// daemon parent, run until SIGINT/SIGTERM or a watchdog asks to stop (-m memory limit, loss of every
// intercept without -L), stop with the final summary, remove the pid file, give the exit code.
// SIGHUP (logrotate) is logged and survived. SIGUSR1 is left alone: Node starts its inspector on it.

import { acquirePidFile } from './pidfile.js';
import type { PidFile } from './pidfile.js';
import type { DaemonReporter } from './daemon.js';
import type { Logger } from '../log/index.js';

/** How often -m compares the resident set size with the limit. */
export const MEMORY_CHECK_INTERVAL_MS = 2_000;
/** Without -L: how long tcpcopy keeps running with no intercept connection authenticated. */
export const DEFAULT_LONELY_GRACE_MS = 30_000;

export interface Service {
  start(): Promise<void>;
  /** Stops and logs the final summary. */
  stop(): Promise<void>;
}

/** Why the process stops: a signal (exit 0) or a watchdog (exit 1, logged as an error). */
export interface StopRequest {
  readonly reason: string;
  readonly exitCode: number;
}

/** Something that watches the running service and may ask it to stop; started after the service. */
export interface Watchdog {
  start(requestStop: (req: StopRequest) => void): void;
  stop(): void;
}

export interface SuperviseOptions {
  readonly service: Service;
  readonly logger: Logger;
  /** -P; null = none. */
  readonly pidFile: string | null;
  /** Set in a daemon child: told when the start succeeded or failed. */
  readonly daemon: DaemonReporter | null;
  readonly watchdogs?: readonly Watchdog[];
  /**
   * Runs once the service started (--user drops root here); a throw stops the service and fails
   * the start like a start error.
   */
  readonly afterStart?: () => void;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Runs the service until it is asked to stop and resolves with the process's exit code. Throws
 * (after telling the daemon parent) when the pid file cannot be taken or the service cannot start.
 */
export async function supervise(opts: SuperviseOptions): Promise<number> {
  const { service, logger, daemon } = opts;
  let pid: PidFile | null = null;
  try {
    if (opts.pidFile !== null) pid = acquirePidFile(opts.pidFile);
  } catch (err) {
    const code = (err as { exitCode?: unknown }).exitCode;
    daemon?.failed(errorText(err), typeof code === 'number' ? code : undefined);
    throw err;
  }
  let requestStop: (req: StopRequest) => void = () => undefined;
  const stopRequested = new Promise<StopRequest>((resolve) => {
    requestStop = resolve;
  });
  const onSigint = (): void => requestStop({ reason: 'SIGINT received, stopping', exitCode: 0 });
  const onSigterm = (): void => requestStop({ reason: 'SIGTERM received, stopping', exitCode: 0 });
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  // logrotate: -l's file is opened by name for every line (makeLogger), so after a rename the next
  // line starts the new file; SIGHUP says so there instead of ending the process (its default).
  const onSighup = (): void => logger.notice('SIGHUP received: logging goes on in a file opened anew by name');
  process.on('SIGHUP', onSighup);
  const watchdogs = opts.watchdogs ?? [];
  try {
    try {
      await service.start();
    } catch (err) {
      daemon?.failed(errorText(err));
      throw err;
    }
    try {
      opts.afterStart?.();
    } catch (err) {
      daemon?.failed(errorText(err));
      await service.stop();
      throw err;
    }
    daemon?.started();
    for (const w of watchdogs) w.start(requestStop);
    const req = await stopRequested;
    for (const w of watchdogs) w.stop();
    if (req.exitCode === 0) logger.notice(req.reason);
    else logger.error(req.reason);
    await service.stop();
    return req.exitCode;
  } finally {
    for (const w of watchdogs) w.stop();
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
    process.removeListener('SIGHUP', onSighup);
    pid?.release();
  }
}

/** -m: stops the process (exit 1) when its resident set size exceeds `limitBytes`. */
export class MemoryWatch implements Watchdog {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly limitBytes: number,
    private readonly intervalMs: number = MEMORY_CHECK_INTERVAL_MS,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {}

  start(requestStop: (req: StopRequest) => void): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      const used = this.rss();
      if (used <= this.limitBytes) return;
      this.stop();
      const mb = (n: number): string => (n / (1024 * 1024)).toFixed(1);
      requestStop({
        reason: `memory use ${mb(used)} MB exceeds the -m limit of ${mb(this.limitBytes)} MB, stopping`,
        exitCode: 1,
      });
    }, this.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * Without -L: stops the process (exit 1) when no intercept connection has been authenticated for
 * `graceMs` in a row (from the start, or since the last one was lost). Fed by update(n) with the
 * number of authenticated connections (the channel client's onConnectionsChange).
 */
export class LonelyWatch implements Watchdog {
  private authenticated = 0;
  private everConnected = false;
  private timer: NodeJS.Timeout | null = null;
  private requestStop: ((req: StopRequest) => void) | null = null;
  constructor(private readonly graceMs: number) {}

  start(requestStop: (req: StopRequest) => void): void {
    this.requestStop = requestStop;
    this.arm();
  }

  update(authenticated: number): void {
    this.authenticated = authenticated;
    if (authenticated > 0) {
      this.everConnected = true;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
    } else {
      this.arm();
    }
  }

  stop(): void {
    this.requestStop = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.requestStop === null || this.authenticated > 0 || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const stop = this.requestStop;
      if (stop === null || this.authenticated > 0) return;
      const what = this.everConnected
        ? 'every intercept connection was lost'
        : 'no intercept connection was authenticated';
      stop({
        reason: `${what} for ${this.graceMs / 1000} s, exiting (-L keeps tcpcopy running without intercept)`,
        exitCode: 1,
      });
    }, this.graceMs);
  }
}
