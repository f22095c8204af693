// tcpcopy command line: option parsing and dispatch. The replication options are parsed and
// validated here (src/cli/options/) and the live replication (src/tcpcopy/) runs until SIGINT or
// SIGTERM, which print the final summary. `--print-config` prints the validated configuration.
import { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { VERSION } from '../version.js';
import { OptionError, addTcpcopyOptions, formatConfig, parseIp, validateTcpcopyOptions } from './options/index.js';
import type { IpAddress, TcpcopyConfig, TcpcopyRawOptions } from './options/index.js';
import { createLogger } from '../stats/index.js';
import type { Logger } from '../stats/index.js';

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

/** Log lines to -l's file, or standard error. */
function makeLogger(logFile: string | null): Logger {
  const write = logFile === null ? (l: string): void => void process.stderr.write(l) : (l: string): void => appendFileSync(logFile, l);
  return createLogger({ write, now: () => Date.now(), minLevel: 'info' });
}

/** Runs the replication until SIGINT/SIGTERM, then logs the summary and returns. */
async function replicate(config: TcpcopyConfig): Promise<void> {
  const { Replicator } = await import('../tcpcopy/index.js');
  const logger = makeLogger(config.logFile);
  const replicator = new Replicator({ config, logger });
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await replicator.start();
  const signal = await stopped;
  logger.notice(`${signal} received, stopping`);
  await replicator.stop();
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('tcpcopy')
    .description('copy live TCP requests from this (online) server to a target server, packet by packet')
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .exitOverride();
  addTcpcopyOptions(program).action(async (opts: TcpcopyRawOptions & { printConfig?: boolean }) => {
    let config;
    try {
      config = validateTcpcopyOptions(opts, { env: process.env, localAddresses: localAddresses() });
    } catch (err) {
      if (err instanceof OptionError) program.error(`error: ${err.message}`);
      throw err;
    }
    if (opts.printConfig === true) {
      process.stdout.write(`${formatConfig(config)}\n`);
      return;
    }
    if (config.secret === null) program.error('error: tcpcopy needs the channel secret shared with intercept: --secret or TCPCOPY_SECRET');
    await replicate(config);
  });
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
