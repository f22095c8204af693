// tcpcopy command line: option parsing and dispatch. The replication options are parsed and
// validated here (src/cli/options/) and the live replication (src/tcpcopy/) runs until SIGINT or
// SIGTERM, which print the final summary. `--print-config` prints the validated configuration.
// Process options: -d (daemon.ts), -P, -m and -L (supervise.ts, pidfile.ts).
import { statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ExitCode } from '../exit-codes.js';
import {
  TCPCOPY_EXAMPLES,
  addTcpcopyOptions,
  examplesText,
  hostNamesIn,
  parseIp,
  validateTcpcopyOptions,
} from './options/index.js';
import { resolveHostNames } from './resolve.js';
import { serveMetrics } from './metrics.js';
import { serveDashboard } from './dashboard.js';
import { loadFileOptions } from './config-file.js';
import type { FileOptions } from './config-file.js';
import type { IpAddress, TcpcopyConfig, TcpcopyRawOptions } from './options/index.js';
import { daemonReporter } from '../process/daemon.js';
import type { DaemonReporter } from '../process/daemon.js';
import { LonelyWatch, supervise } from '../process/supervise.js';
import type { Logger } from '../log/index.js';
import { becomeUser } from '../process/become-user.js';
import {
  checkLogFile,
  endQuietlyWhenStdoutCloses,
  errorLine,
  makeLogger,
  parseOptions,
  printedConfig,
  runProgram,
  startService,
  toolProgram,
} from './program.js';

/** This machine's addresses (every interface, including down ones that still hold an address). */
function localAddresses(): IpAddress[] {
  const out: IpAddress[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      try {
        out.push(parseIp('local', a.address.split('%')[0] ?? a.address));
      } catch {
        // an address form we do not use (never expected from the kernel)
      }
    }
  }
  return out;
}

/** -i FILE is offline replay when FILE is a regular file. */
function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Log lines to -l's file, or standard error. */
/**
 * Runs the replication until SIGINT/SIGTERM (exit 0), the -m limit exceeded with no session left to
 * shed or, without -L, the loss of every intercept connection for --lonely-grace (exit 1); the final
 * summary is logged either way.
 */
async function replicate(config: TcpcopyConfig, daemon: DaemonReporter | null): Promise<void> {
  const { Replicator, MemoryShedder, staticBounds } = await import('../tcpcopy/index.js');
  const logger = makeLogger(config.logFile, config.logFormat);
  const lonely = config.lonely ? null : new LonelyWatch(config.lonelyGraceMs);
  const { tcpcopyMetricSpecs, CompareMetrics } = await import('../metrics/index.js');
  // --compare-report with --metrics: latency histograms and outcomes, fed per compared exchange.
  const compareMetrics = config.compare != null && config.metrics !== null ? new CompareMetrics() : null;
  // -m: the engine's session and backlog bounds start from the limit, and the shedder lowers them
  // while the live data is near what the limit allows.
  const bounds = staticBounds(config.maxMemoryBytes, config.maxBacklogBytes);
  const replicator = new Replicator({
    config,
    logger,
    bounds,
    onConnectionsChange: (n) => lonely?.update(n),
    interceptStatsMs: config.http === null ? 0 : 1000,
    ...(compareMetrics === null ? {} : { onCompareResult: (t, r) => compareMetrics.observe(t, r) }),
  });
  const metrics = await serveMetrics(
    'tcpcopy',
    config.metrics,
    tcpcopyMetricSpecs(config.mysql !== null),
    () => ({
      counters: replicator.counters(),
      mysql: replicator.mysql?.figures() ?? null,
      sessionsByState: replicator.sessionsByState(),
      sendErrors: replicator.sendErrorsByCode(),
      channelQueuedBytes: replicator.client.queuedBytes ?? 0,
    }),
    daemon,
    compareMetrics === null ? undefined : (registry) => compareMetrics.attach(registry),
  );
  if (metrics === 'failed') return;
  const dashboard = await serveDashboard(
    config.http,
    () => ({
      timeMs: performance.now(),
      counters: replicator.counters(),
      interceptConnections: replicator.client.authenticatedConnections,
      channelQueuedBytes: replicator.client.queuedBytes ?? 0,
      compare: replicator.compareReports().candidates[0]?.[1].liveView() ?? null,
      interceptOwn: replicator.interceptStats(),
    }),
    daemon,
  );
  if (dashboard === 'failed') {
    await metrics?.close();
    return;
  }
  const shedder = new MemoryShedder(config.maxMemoryBytes, bounds, replicator, logger);
  const watchdogs = [shedder, ...(lonely === null ? [] : [lonely])];
  // --record beside the replication: a second capture, both directions, to pcapng.
  const recording =
    config.record === null ? null : (await import('./record.js')).recordBeside(config, logger, replicator);
  try {
    process.exitCode = await supervise({
      service: recording?.service ?? replicator,
      logger,
      pidFile: config.pidFile,
      daemon,
      watchdogs: recording === null ? watchdogs : [...watchdogs, recording.watchdog],
      ...(config.user === null ? {} : { afterStart: userDrop(config.user, config, logger) }),
    });
  } finally {
    await metrics?.close();
    await dashboard?.close();
  }
  // The replication ran, but what --compare-report asked for was not written.
  if (replicator.compareReportFailed && (process.exitCode ?? 0) === 0) process.exitCode = ExitCode.FAILED;
}

/** --user: the drop after the start, handing -l to the user. */
function userDrop(user: string, config: { readonly logFile: string | null }, logger: Logger): () => void {
  return () => becomeUser({ user, logFile: config.logFile, logger });
}

/** Live capture replayed over ordinary sockets until SIGINT/SIGTERM; prints the report. Exit code. */
async function replayLiveOverSockets(config: TcpcopyConfig): Promise<number> {
  const logger = makeLogger(config.logFile, config.logFormat);
  const first = config.transfers[0];
  if (
    !first ||
    config.transfers.some((t) => t.target.ip.text !== first.target.ip.text || t.target.port !== first.target.port)
  ) {
    process.stderr.write(
      errorLine('tcpcopy', '--transport socket replays to one target: give -x items with the same targetIP:targetPort'),
    );
    return ExitCode.BAD_INPUT;
  }
  if (config.responsesFile !== null) {
    const { reportPathProblem } = await import('../replay/run.js');
    const problem = reportPathProblem(config.responsesFile, '--responses');
    if (problem !== null) {
      process.stderr.write(errorLine('tcpcopy', problem));
      return ExitCode.BAD_INPUT;
    }
  }
  const stop = new AbortController();
  const onSignal = (sig: string): void => {
    logger.notice(`${sig} received, stopping`);
    stop.abort();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const {
    replayLiveOverSockets: run,
    liveSocketFilter,
    localTargetWarning,
    emptyCaptureHint,
  } = await import('../replay/socket/live.js');
  const devices = config.interfaces.length === 0 ? ['any'] : config.interfaces;
  const ports = [...new Set(config.transfers.map((t) => t.online.port))];
  const setup = {
    devices,
    filter: config.captureFilterIsAuto ? liveSocketFilter(ports, first.target.ip.text) : config.captureFilter,
    filterIsAuto: config.captureFilterIsAuto,
    targetHost: first.target.ip.text,
    targetIsLocal: localAddresses().some((a) => a.text === first.target.ip.text),
  };
  const warning = localTargetWarning(setup);
  if (warning !== null) process.stderr.write(`tcpcopy: warning: ${warning}\n`);
  const { formatReplayReport } = await import('../replay/socket/index.js');
  const { compareRequest } = await import('../replay/run.js');
  const { writeCompareFile } = await import('../replay/compare-file.js');
  try {
    const report = await run({
      devices,
      ...(config.captureFilterIsAuto ? {} : { filter: config.captureFilter }),
      snaplen: config.snaplenBytes,
      bufferBytes: config.captureBufferBytes,
      ports,
      target: { host: first.target.ip.text, port: first.target.port },
      sessionTimeoutMs: config.sessionTimeoutMs,
      samplePercent: config.samplePercent,
      rampMs: config.rampMs,
      copies: config.copies,
      ...(config.responsesFile === null ? {} : { responseLog: config.responsesFile }),
      ...(config.mysql === null
        ? {}
        : {
            mysql: config.mysql,
            mysqlLog: { warn: (t: string) => logger.warn(t), error: (t: string) => logger.error(t) },
          }),
      ...compareRequest(config),
      signal: stop.signal,
      onCapturing: (f) =>
        logger.notice(
          `tcpcopy capturing with filter "${f}", replaying over sockets to ${first.target.ip.text}:${first.target.port}`,
        ),
    });
    process.stdout.write(`${formatReplayReport(report)}\n`);
    const hint = emptyCaptureHint(setup, report.capture.read);
    if (hint !== null) process.stderr.write(`tcpcopy: warning: ${hint}\n`);
    if (report.compare !== null && config.compare != null) {
      process.stdout.write(`${report.compare.summaryLines().join('\n')}\n`);
      const problem = writeCompareFile(config.compare.reportFile, report.compare);
      if (problem !== null) {
        process.stderr.write(errorLine('tcpcopy', problem));
        return ExitCode.FAILED;
      }
    }
    return 0;
  } catch (e) {
    process.stderr.write(errorLine('tcpcopy', e instanceof Error ? e.message : String(e)));
    return ExitCode.FAILED;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  endQuietlyWhenStdoutCloses();
  const program = toolProgram(
    'tcpcopy',
    'copy live TCP requests from this (online) server to a target server, packet by packet',
  );
  program.addHelpText('after', examplesText(TCPCOPY_EXAMPLES));
  addTcpcopyOptions(program).action(async () => {
    const opts = parseOptions(program, () =>
      loadFileOptions<TcpcopyRawOptions & FileOptions & { printConfig?: boolean }>(program),
    );
    // --record without -s: recording alone.
    const { isRecordOnly } = await import('./options/record-only.js');
    if (isRecordOnly(opts)) return (await import('./record.js')).runRecordOnly(program, argv, opts);
    // Host names in -x and -s: resolved once, here; the addresses are logged below.
    const resolved = await resolveHostNames(hostNamesIn(opts.transfer, opts.intercept));
    const byName = new Map(resolved.map((r) => [r.name, r.ip]));
    const config = parseOptions(program, () =>
      validateTcpcopyOptions(opts, {
        env: process.env,
        localAddresses: localAddresses(),
        isRegularFile,
        resolveHost: (n) => byName.get(n),
      }),
    );
    if (printedConfig(opts, config)) return;
    checkLogFile(program, config.logFile);
    if (config.compare != null) {
      const { reportPathProblem } = await import('../replay/run.js');
      const problem = reportPathProblem(config.compare.reportFile, '--compare-report');
      if (problem !== null) program.error(errorLine('tcpcopy', problem).trimEnd(), { exitCode: ExitCode.BAD_INPUT });
    }
    // Logged once: by the process that runs (a -d parent re-runs itself as the daemon, which logs it).
    if (resolved.length > 0 && !(config.daemon && daemonReporter() === null)) {
      makeLogger(config.logFile, config.logFormat).notice(
        `host names resolved: ${resolved.map((r) => `${r.name} ${r.ip?.text ?? '?'}`).join(', ')}`,
      );
    }
    // offline replay: src/replay/run.ts prints its own one-line errors and the report.
    if (config.offline !== null) {
      process.exitCode = await (
        await import('../replay/run.js')
      ).runOffline(config, {
        logger: makeLogger(config.logFile, config.logFormat),
        error: (t) => void process.stderr.write(errorLine('tcpcopy', t)),
        warn: (t) => void process.stderr.write(`tcpcopy: warning: ${t}\n`),
      });
      return;
    }
    // --transport socket on live traffic: src/replay/socket/live.ts.
    if (config.transport === 'socket') {
      process.exitCode = await replayLiveOverSockets(config);
      return;
    }
    await startService({ tool: 'tcpcopy', peer: 'intercept', program, argv, config }, (daemon) =>
      replicate(config, daemon),
    );
  });
  program
    .command('demo')
    .description(
      'built-in demo: live replication in its own network namespaces (online, target, assistant, client), three bounded loads, the replication ratio',
    )
    .option('--requests <n>', 'sequential curl requests of the first load', '50')
    .action(async (opts: { requests: string }) => {
      const { runDemo } = await import('../demo/index.js');
      const summary = await runDemo({ requests: Number(opts.requests) });
      if (!summary.ok) process.exitCode = 1;
    });
  await runProgram(program, argv);
}
