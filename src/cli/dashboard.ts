// --http: the live dashboard, started before the service like --metrics (a port in use is a one-line
// error and exit code 2 before any capture starts), closed when the service has stopped.
import { ExitCode } from '../exit-codes.js';
import type { DaemonReporter } from '../process/daemon.js';
import type { DashboardInput } from '../dashboard/index.js';
import { errorLine } from './program.js';

export interface DashboardHandle {
  close(): Promise<void>;
}

export async function serveDashboard(
  at: { readonly host: string | null; readonly port: number } | null,
  snapshot: () => DashboardInput,
  daemon: DaemonReporter | null,
): Promise<DashboardHandle | null | 'failed'> {
  if (at === null) return null;
  const { DashboardModel, DashboardServer } = await import('../dashboard/index.js');
  const model = new DashboardModel();
  try {
    return await DashboardServer.start(at, () => model.update(snapshot()), {
      onError: (e) => process.stderr.write(errorLine('tcpcopy', `--http: ${e.message} (still serving)`)),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const where = `${at.host === null ? '' : `${at.host.includes(':') ? `[${at.host}]` : at.host}:`}${at.port}`;
    const reason = `--http ${where}: cannot listen (${code || (e instanceof Error ? e.message : String(e))})`;
    if (daemon !== null) daemon.failed(reason, ExitCode.BAD_INPUT);
    else process.stderr.write(errorLine('tcpcopy', reason));
    process.exitCode = ExitCode.BAD_INPUT;
    return 'failed';
  }
}
