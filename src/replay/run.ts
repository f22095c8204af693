// `tcpcopy --offline FILE` (or -i FILE): the pre-scan (a corrupt file fails here, before anything
// is sent), then the replay through the Replicator with an OfflineSource in place of the live
// captures (packet transport: raw send + intercept, exactly as live), the drain, and the report.
// --transport socket hands the file to replayCaptureOverSockets (src/replay/).
//
// The drain: after the last packet of the last loop tcpcopy waits until no session is active, or
// until nothing was sent or received for DRAIN_QUIET_MS, and at most DRAIN_MAX_MS; sessions still
// open then are counted as skipped ("unfinished"). Exit codes (src/exit-codes.ts): 0 after a replay
// of the capture's sessions (also after SIGINT or SIGTERM, which cut it short); 2 for a file that
// cannot be read, a --report-json path that cannot be written, or options the transport does not
// take, all found before anything is sent; 3 when nothing of the capture matched or could start; 4
// when the target refused, reset or never answered sessions (outcome.ts); 1 when intercept cannot be
// reached or reading fails during the replay.

import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode } from '../exit-codes.js';
import type { ReplicatorConfig } from '../tcpcopy/config.js';
import type { OfflineConfig, Transport } from './config.js';
import { CaptureFileError } from '../pcap/index.js';
import type { ReadCaptureOptions } from '../pcap/index.js';
import type { Logger } from '../log/index.js';
import { buildOfflineReport, formatOfflineReport } from '../stats/offline-report.js';
import { newEdgeCounters } from '../stats/index.js';
import { newCounters } from '../session/index.js';
import type { OnlineEndpointKey } from './analyze.js';
import { createProgress, estimateEtaByRate, estimateEtaMs } from './progress.js';
import { OfflineSource, scanCaptureFile } from './packet/source.js';
import { packetReportJson, socketReportJson } from './report-json.js';
import type { ReplayReportJson } from './report-json.js';
import type { CaptureScan } from './packet/source.js';
import type { ScheduleOptions } from './packet/schedule.js';
import { packetOutcome, socketOutcome } from './outcome.js';
import type { Outcome } from './outcome.js';
import { missingSecretMessage, secretMissing } from '../channel/index.js';
import { writeCompareFile } from './compare-file.js';
import type { CompareRules } from '../compare/index.js';
import type { CompareConfig } from '../tcpcopy/config.js';

/** The drain ends when nothing moved for this long. */
export const DRAIN_QUIET_MS = 2000;
/** ... and at the latest after this long. */
export const DRAIN_MAX_MS = 30_000;
const POLL_MS = 50;
const PROGRESS_MS = 200;

/** The Replicator's configuration plus what an offline run adds. */
export interface OfflineRunConfig extends ReplicatorConfig {
  /** --lonely-grace: without -L, exit after this long with no intercept connection authenticated. */
  readonly lonelyGraceMs: number;
  /** --offline FILE or -i FILE: replay a capture file; null = live capture. */
  readonly offline: OfflineConfig | null;
  /** --transport: 'packet' (raw send + intercept, the default) or 'socket' (ordinary TCP connections, no intercept). */
  readonly transport: Transport;
  /** --responses: the socket transport's response log (JSON lines); null = none. */
  readonly responsesFile: string | null;
}

export interface OfflineRunIo {
  readonly logger: Logger;
  /** Where the report text goes (default standard output). */
  readonly out?: (text: string) => void;
  /** One-line error to standard error. */
  readonly error?: (text: string) => void;
  /** One-line warning to standard error. */
  readonly warn?: (text: string) => void;
}

/**
 * The reader's hook for a file cut short (what a killed tcpdump leaves): replayed up to the cut with
 * one warning naming the byte offset, or, with --strict-file, refused (the reader throws).
 */
function truncationPolicy(strict: boolean, warn: (t: string) => void): ReadCaptureOptions {
  if (strict) return {};
  return {
    onTruncated: (e) =>
      warn(`${e.message}: replaying the packets before the cut (--strict-file refuses a file cut short)`),
  };
}

/** A one-line message for a failure to read the file (never a stack trace). */
export function describeReadError(file: string, e: unknown): string {
  if (e instanceof CaptureFileError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (typeof err.code === 'string')
    return `${file}: cannot read the capture file (${err.code}${err.syscall !== undefined ? ` on ${err.syscall}` : ''})`;
  return `${file}: ${err instanceof Error ? err.message : String(e)}`;
}

function onlineEndpoints(config: OfflineRunConfig): OnlineEndpointKey[] {
  return config.transfers.map((t) => ({ ip: t.online.ip?.text ?? null, port: t.online.port }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Why `path` cannot be written as --report-json, or null when it can: checked before the replay, so
 * a mistyped directory is not found after the whole replay ran.
 */
export function reportPathProblem(path: string, flag = '--report-json'): string | null {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory() === true) return `${flag} ${path}: is a directory`;
    accessSync(st === undefined ? dirname(path) : path, constants.W_OK);
    return null;
  } catch (e) {
    return `${flag} ${path}: cannot be written (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
}

/** Prints the outcome's reason (if any) and returns its exit code. */
function finish(outcome: Outcome, error: (t: string) => void): number {
  if (outcome.reason !== null) error(outcome.reason);
  return outcome.code;
}

/** Runs the offline replay of config.offline; resolves with the process exit code. */
export async function runOffline(config: OfflineRunConfig, io: OfflineRunIo): Promise<number> {
  const off = config.offline;
  if (off === null) throw new RangeError('runOffline needs config.offline');
  const out = io.out ?? ((t: string): void => void process.stdout.write(t));
  const error = io.error ?? ((t: string): void => void process.stderr.write(`tcpcopy: error: ${t}\n`));
  const warn = io.warn ?? ((t: string): void => void process.stderr.write(`tcpcopy: warning: ${t}\n`));
  const schedule: ScheduleOptions = { accel: off.accel, idleMs: off.idleMs, topSpeed: off.topSpeed };
  const reportProblem =
    (off.reportJson === null ? null : reportPathProblem(off.reportJson)) ??
    (config.responsesFile === null ? null : reportPathProblem(config.responsesFile, '--responses'));
  if (reportProblem !== null) {
    error(reportProblem);
    return ExitCode.BAD_INPUT;
  }
  if (config.transport === 'socket')
    return runOverSockets(config, out, error, warn, truncationPolicy(off.strictFile, warn));

  if (secretMissing(config)) {
    error(missingSecretMessage('tcpcopy', 'intercept'));
    return ExitCode.BAD_INPUT;
  }
  let scan: CaptureScan;
  try {
    scan = await scanCaptureFile(off.file, onlineEndpoints(config), schedule, truncationPolicy(off.strictFile, warn));
  } catch (e) {
    error(describeReadError(off.file, e));
    return ExitCode.BAD_INPUT;
  }
  if (scan.counts.sessions === 0) {
    // Known from the pre-scan: no intercept connection, no replay — but the same report as any run
    // (all zeros replayed), as the socket transport prints, so scripts read one shape either way.
    const empty = buildOfflineReport({
      file: off.file,
      format: scan.info.format,
      loops: off.loops,
      durationMs: 0,
      inFile: scan.counts,
      counters: { ...newCounters(), ...newEdgeCounters() },
      activeAtEnd: 0,
      closeReasons: new Map(),
    });
    out(`${formatOfflineReport(empty).join('\n')}\n`);
    if (off.reportJson !== null && !writeReport(off.reportJson, packetReportJson(empty, config), error))
      return ExitCode.FAILED;
    const c = scan.counts;
    error(
      `nothing to replay: none of the ${c.packets} packets of ${off.file} is a client packet of the -x ports ` +
        `(${c.otherTcpPackets} TCP of other ports, ${c.nonTcpPackets} non-TCP, ${c.nonIpPackets} non-IP, ${c.replyPackets} replies)`,
    );
    return ExitCode.NOTHING_MATCHED;
  }
  const { Replicator } = await import('../tcpcopy/index.js');
  // The pre-scan has warned of a cut: the passes read up to it quietly.
  const source = new OfflineSource({
    path: off.file,
    schedule,
    loops: off.loops,
    online: onlineEndpoints(config),
    read: off.strictFile ? {} : { onTruncated: () => undefined },
    pps: off.pps,
    rps: off.rps,
  });
  let connections = 0;
  let wakeConnections: (() => void) | null = null;
  const replicator = new Replicator({
    config,
    logger: io.logger,
    source,
    onConnectionsChange: (n) => {
      connections = n;
      wakeConnections?.();
    },
  });
  try {
    await replicator.start();
  } catch (e) {
    error(e instanceof Error ? e.message : String(e));
    return ExitCode.FAILED;
  }
  // Replay only once every channel connection is up, so intercept routes the first SYN-ACKs.
  const expected = config.intercepts.length * config.connectionsPerIntercept;
  const connectDeadline = performance.now() + config.lonelyGraceMs;
  while (connections < expected && performance.now() < connectDeadline) {
    await new Promise<void>((r) => {
      wakeConnections = r;
      setTimeout(r, POLL_MS);
    });
  }
  wakeConnections = null;
  if (connections === 0) {
    await replicator.stop();
    error(
      `no intercept connection after ${(config.lonelyGraceMs / 1000).toFixed(1)} s (${config.intercepts.map((i) => `${i.ip.text}:${i.port}`).join(', ')}): nothing replayed`,
    );
    return ExitCode.FAILED;
  }

  let interrupted = false;
  let wakeMain: (() => void) | null = null;
  const onSignal = (): void => {
    interrupted = true;
    wakeMain?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let readError: Error | null = null;
  let ended = false;
  source.on('end', () => {
    ended = true;
    wakeMain?.();
  });
  source.on('error', (e) => {
    readError = e;
    wakeMain?.();
  });
  const totalPackets = scan.counts.packets * off.loops;
  const totalMs = scan.passDurationMs * off.loops;
  const progress = await createProgress(process.stderr, totalPackets);
  const figures = (): void => {
    const p = source.progress();
    progress.update({
      packets: p.packets,
      totalPackets,
      sessions: replicator.engine.counters.conns,
      bytes: p.bytes,
      elapsedMs: p.elapsedMs,
      etaMs: estimateEtaMs({
        packets: p.packets,
        totalPackets,
        elapsedMs: p.elapsedMs,
        positionMs: p.positionMs,
        totalMs,
        topSpeed: off.topSpeed,
        capped: off.pps !== null || off.rps !== null,
      }),
    });
  };
  const progressTimer = setInterval(figures, PROGRESS_MS);
  const t0 = performance.now();
  source.start();
  while (!ended && readError === null && !interrupted) {
    await new Promise<void>((r) => {
      wakeMain = r;
    });
  }
  wakeMain = null;
  // The drain: bounded wait for the sessions to finish.
  const c = replicator.engine.counters;
  const drainEnd = performance.now() + DRAIN_MAX_MS;
  let moved = c.send + c.resp;
  let quietSince = performance.now();
  while (
    !interrupted &&
    readError === null &&
    c.active > 0 &&
    performance.now() < drainEnd &&
    performance.now() - quietSince < DRAIN_QUIET_MS
  ) {
    await sleep(POLL_MS);
    if (c.send + c.resp !== moved) {
      moved = c.send + c.resp;
      quietSince = performance.now();
    }
  }
  const durationMs = performance.now() - t0;
  clearInterval(progressTimer);
  figures();
  progress.stop();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  const activeAtEnd = c.active;
  await source.close();
  await replicator.stop();
  if (readError !== null) {
    error(describeReadError(off.file, readError));
    return ExitCode.FAILED;
  }
  const report = buildOfflineReport({
    file: off.file,
    format: scan.info.format,
    loops: off.loops,
    durationMs,
    inFile: scan.counts,
    counters: replicator.counters(),
    activeAtEnd,
    closeReasons: replicator.closeReasons,
    rateCaps: source.rateCaps(),
  });
  out(`${formatOfflineReport(report).join('\n')}\n`);
  const json = packetReportJson(report, { ...config, mysqlFigures: replicator.mysql?.figures() ?? null });
  if (off.reportJson !== null && !writeReport(off.reportJson, json, error)) return ExitCode.FAILED;
  if (replicator.compareReportFailed) {
    error(`--compare-report ${config.compare?.reportFile ?? ''}: could not be written (see the log)`);
    return ExitCode.FAILED;
  }
  // Stopped by SIGINT/SIGTERM: the user asked for it, the report says how far it got.
  if (interrupted) return ExitCode.OK;
  return finish(packetOutcome(report), error);
}

/** --compare-report over the socket transport: the rules for replayCaptureOverSockets. */
export function compareRequest(config: { readonly compare?: CompareConfig | null }): {
  compare?: { rules: CompareRules; keepBodyBytes: number };
} {
  const c = config.compare;
  if (c == null) return {};
  return {
    compare: {
      rules: { headers: c.headers, ignoreJson: c.ignoreJson, ignorePaths: c.ignorePaths ?? [] },
      keepBodyBytes: c.keepBodyBytes,
    },
  };
}

function writeReport(path: string, report: ReplayReportJson, error: (t: string) => void): boolean {
  try {
    writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
    return true;
  } catch (e) {
    error(`--report-json ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return false;
  }
}

/** --transport socket: the file replayed over ordinary TCP connections (src/replay/). */
async function runOverSockets(
  config: OfflineRunConfig,
  out: (t: string) => void,
  error: (t: string) => void,
  warn: (t: string) => void,
  read: ReadCaptureOptions,
): Promise<number> {
  const off = config.offline!;
  if (off.idleMs !== null || off.loops !== 1) {
    error('--transport socket: -I and -T are not available with the socket transport yet');
    return ExitCode.BAD_INPUT;
  }
  const targets = new Set(config.transfers.map((t) => `${t.target.ip.text} ${t.target.port}`));
  if (targets.size !== 1) {
    error('--transport socket replays to one target: give -x items with the same target address:port');
    return ExitCode.BAD_INPUT;
  }
  const first = config.transfers[0]!;
  const replay = await import('./socket/index.js');
  // SIGINT/SIGTERM: sessions not started yet are skipped (counted 'aborted'), the ones running
  // finish, and the report is printed, as with the packet transport.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The bar counts sessions replayed (copies included) of those the file holds, as they are read.
  const progress = await createProgress(process.stderr, 0, 'sessions');
  let report;
  try {
    report = await replay.replayCaptureOverSockets({
      signal: stop.signal,
      onProgress: (p) =>
        progress.update({
          packets: p.sessionsDone,
          totalPackets: p.sessionsTotal,
          sessions: p.sessionsOpen,
          bytes: p.bytesSent,
          elapsedMs: p.elapsedMs,
          etaMs: estimateEtaByRate(p.sessionsDone, p.sessionsTotal, p.elapsedMs),
        }),
      file: off.file,
      ports: [...new Set(config.transfers.map((t) => t.online.port))],
      target: { host: first.target.ip.text, port: first.target.port },
      accelerate: off.accel,
      topSpeed: off.topSpeed,
      // -t (the socket transport's own default without it, see the option validation), -r, -n.
      sessionTimeoutMs: config.sessionTimeoutMs,
      samplePercent: config.samplePercent,
      rampMs: config.rampMs,
      copies: config.copies,
      requestsPerS: off.rps,
      ...(read.onTruncated === undefined ? {} : { onTruncated: read.onTruncated }),
      ...(config.responsesFile === null ? {} : { responseLog: config.responsesFile }),
      ...(config.mysql === null ? {} : { mysql: config.mysql, mysqlLog: { warn, error } }),
      ...compareRequest(config),
    });
  } catch (e) {
    error(describeReadError(off.file, e));
    return ExitCode.BAD_INPUT;
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  out(`${replay.formatReplayReport(report)}\n`);
  if (off.reportJson !== null && !writeReport(off.reportJson, socketReportJson(report, off.file), error))
    return ExitCode.FAILED;
  if (report.compare !== null && config.compare != null) {
    out(`${report.compare.summaryLines().join('\n')}\n`);
    const problem = writeCompareFile(config.compare.reportFile, report.compare);
    if (problem !== null) {
      error(problem);
      return ExitCode.FAILED;
    }
  }
  // Stopped by a signal: the user asked for it, the report says how far it got.
  if (stop.signal.aborted) return ExitCode.OK;
  return finish(socketOutcome(report, off.file), error);
}
