// The process side of recording: `tcpcopy --record FILE` alone (no -s: run the Recorder until
// SIGINT/SIGTERM under supervise(), with -l, -P, -d, -m) and beside the live replication (one service
// that starts the recorder before the replicator and stops it after, so the recording covers all
// the replication saw).

import type { Command } from 'commander';
import { OptionError } from './options/errors.js';
import type { TcpcopyConfig, TcpcopyRawOptions } from './options/tcpcopy-config.js';
import { daemonReporter, runDaemonParent } from '../process/daemon.js';
import { MemoryWatch, supervise } from '../process/supervise.js';
import { checkLogFile, makeLogger, usageError } from './program.js';
import type { Service, Watchdog } from '../process/supervise.js';
import type { Logger } from '../log/index.js';
import { validateRecordOnlyOptions } from './options/record-only.js';
import { Recorder } from '../record/recorder.js';

/** Runs `tcpcopy --record FILE ...` without -s: recording alone. Sets process.exitCode. */
export async function runRecordOnly(
  program: Command,
  argv: readonly string[],
  raw: TcpcopyRawOptions & { printConfig?: boolean },
): Promise<void> {
  let config;
  try {
    config = validateRecordOnlyOptions(raw);
  } catch (err) {
    if (err instanceof OptionError) usageError(program, err.message);
    throw err;
  }
  if (raw.printConfig === true) {
    process.stdout.write(`${JSON.stringify({ mode: 'record', ...config }, null, 2)}\n`);
    return;
  }
  checkLogFile(program, config.logFile);
  const daemon = daemonReporter();
  if (config.daemon && daemon === null) {
    await runDaemonParent('tcpcopy', program, argv, config.logFile);
    return;
  }
  const logger = makeLogger(config.logFile, config.logFormat);
  const recorder = new Recorder({
    config: config.record,
    interfaces: config.interfaces,
    snaplenBytes: config.snaplenBytes,
    captureBufferBytes: config.captureBufferBytes,
    logger,
    statsIntervalMs: config.statsIntervalMs,
  });
  process.exitCode = await supervise({
    service: recorder,
    logger,
    pidFile: config.pidFile,
    daemon,
    watchdogs: [new MemoryWatch(config.maxMemoryBytes), recorder.watchdog()],
  });
}

/**
 * --record beside the replication: a service running the recorder around `replication` (recorder
 * started first and stopped last), and the recorder's watchdog (write failures stop the process).
 */
export function recordBeside(
  config: TcpcopyConfig,
  logger: Logger,
  replication: Service,
): { service: Service; watchdog: Watchdog } {
  const rec = config.record;
  if (rec === null) throw new RangeError('recordBeside needs a --record configuration');
  const recorder = new Recorder({
    config: rec,
    interfaces: config.interfaces,
    snaplenBytes: config.snaplenBytes,
    captureBufferBytes: config.captureBufferBytes,
    logger,
    statsIntervalMs: config.statsIntervalMs,
  });
  const service: Service = {
    async start(): Promise<void> {
      await recorder.start();
      try {
        await replication.start();
      } catch (e) {
        await recorder.stop();
        throw e;
      }
    },
    async stop(): Promise<void> {
      try {
        await replication.stop();
      } finally {
        await recorder.stop();
      }
    },
  };
  return { service, watchdog: recorder.watchdog() };
}
