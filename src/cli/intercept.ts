// intercept command line: runs on the target or an assistant server and returns the target's
// responses to tcpcopy. Options are parsed and validated here (src/cli/options/); the service
// (src/intercept/) runs until SIGINT or SIGTERM, which print the final summary.
// `--print-config` prints the configuration. -d (daemon.ts) and -P (supervise.ts, pidfile.ts).
import { INTERCEPT_EXAMPLES, addInterceptOptions, examplesText, validateInterceptOptions } from './options/index.js';
import type { InterceptConfig, InterceptRawOptions } from './options/index.js';
import type { DaemonReporter } from '../process/daemon.js';
import { supervise } from '../process/supervise.js';
import { becomeUser } from '../process/become-user.js';
import { serveMetrics } from './metrics.js';
import {
  checkLogFile,
  endQuietlyWhenStdoutCloses,
  makeLogger,
  parseOptions,
  printedConfig,
  runProgram,
  startService,
  toolProgram,
} from './program.js';
import { loadFileOptions } from './config-file.js';
import type { FileOptions } from './config-file.js';

/** Runs the intercept service until SIGINT/SIGTERM, then logs the summary and returns. */
async function serve(config: InterceptConfig, daemon: DaemonReporter | null): Promise<void> {
  const { InterceptService } = await import('../intercept/index.js');
  const logger = makeLogger(config.logFile, config.logFormat, 'intercept');
  const service = new InterceptService({ config, logger });
  const { interceptMetricSpecs } = await import('../metrics/index.js');
  const metrics = await serveMetrics(
    'intercept',
    config.metrics,
    interceptMetricSpecs(),
    () => service.counters(),
    daemon,
  );
  if (metrics === 'failed') return;
  try {
    const user = config.user;
    process.exitCode = await supervise({
      service,
      logger,
      pidFile: config.pidFile,
      daemon,
      ...(user === null
        ? {}
        : {
            afterStart: () => becomeUser({ user, logFile: config.logFile, logger }),
          }),
    });
  } finally {
    await metrics?.close();
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  endQuietlyWhenStdoutCloses();
  const program = toolProgram('intercept', "capture the target server's responses and return their headers to tcpcopy");
  program.addHelpText('after', examplesText(INTERCEPT_EXAMPLES));
  addInterceptOptions(program).action(async () => {
    const opts = parseOptions(program, () =>
      loadFileOptions<InterceptRawOptions & FileOptions & { printConfig?: boolean }>(program),
    );
    const config = parseOptions(program, () => validateInterceptOptions(opts, { env: process.env }));
    if (printedConfig(opts, config)) return;
    checkLogFile(program, config.logFile);
    await startService({ tool: 'intercept', peer: 'tcpcopy', program, argv, config }, (daemon) =>
      serve(config, daemon),
    );
  });
  await runProgram(program, argv);
}
