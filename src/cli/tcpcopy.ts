// tcpcopy command line: option parsing and dispatch. The replication options arrive with the
// live-replication work; for now the built-in demo and help/version are wired.
import { Command } from 'commander';
import { VERSION } from '../version.js';

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('tcpcopy')
    .description('copy live TCP requests from this (online) server to a target server, packet by packet')
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .exitOverride();
  program
    .command('demo')
    .description('built-in demo: builds network namespaces, captures live traffic and prints what it decoded')
    .option('--requests <n>', 'number of HTTP requests the demo client sends', '5')
    .action(async (opts: { requests: string }) => {
      const { runDemo } = await import('./demo.js');
      const summary = await runDemo({ requests: Number(opts.requests) });
      if (summary.decoded === 0 || summary.checksums.bad > 0) process.exitCode = 1;
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number') process.exitCode = code;
    else throw err;
  }
}
