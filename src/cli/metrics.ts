// --metrics for both tools: starts the endpoint before the service, so a port in use is a one-line
// error and exit code 2 before any capture starts; closed when the service has stopped.

import { ExitCode } from '../exit-codes.js';
import type { MetricSpec } from '../metrics/index.js';
import type { DaemonReporter } from '../process/daemon.js';
import type { Registry, RegistryContentType } from 'prom-client';
import { errorLine } from './program.js';

export interface MetricsHandle {
  close(): Promise<void>;
}

/**
 * Serves `specs` read from `snapshot()` at `at`; null when not asked. On a listen error it prints the
 * reason, sets exit code 2 and returns 'failed' (the caller does not start the service).
 */
export async function serveMetrics<S>(
  tool: 'tcpcopy' | 'intercept',
  at: { readonly host: string | null; readonly port: number } | null,
  specs: ReadonlyArray<MetricSpec<S>>,
  snapshot: () => S,
  daemon: DaemonReporter | null,
  live?: (registry: Registry<RegistryContentType>) => void,
): Promise<MetricsHandle | null | 'failed'> {
  if (at === null) return null;
  const { MetricsServer, metricsRenderer } = await import('../metrics/index.js');
  try {
    return await MetricsServer.start(at, metricsRenderer(specs, snapshot, live), (e) =>
      process.stderr.write(errorLine(tool, `--metrics: ${e.message} (still serving)`)),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const where = `${at.host === null ? '' : `${at.host.includes(':') ? `[${at.host}]` : at.host}:`}${at.port}`;
    const reason = `--metrics ${where}: cannot listen (${code || (e instanceof Error ? e.message : String(e))})`;
    // A daemon child tells its parent, which prints the reason and exits with the code.
    if (daemon !== null) daemon.failed(reason, ExitCode.BAD_INPUT);
    else process.stderr.write(errorLine(tool, reason));
    process.exitCode = ExitCode.BAD_INPUT;
    return 'failed';
  }
}
