// intercept command line: runs on the target or an assistant server and returns the target's
// responses to tcpcopy. Options are parsed and validated here (src/cli/options/); the channel and
// capture wiring arrive with the live-replication work. `--print-config` prints the configuration.
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { OptionError, addInterceptOptions, formatConfig, validateInterceptOptions } from './options/index.js';
import type { InterceptRawOptions } from './options/index.js';

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('intercept')
    .description("capture the target server's responses and return their headers to tcpcopy")
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .exitOverride();
  addInterceptOptions(program).action((opts: InterceptRawOptions & { printConfig?: boolean }) => {
    let config;
    try {
      config = validateInterceptOptions(opts, { env: process.env });
    } catch (err) {
      if (err instanceof OptionError) program.error(`error: ${err.message}`);
      throw err;
    }
    if (opts.printConfig === true) {
      process.stdout.write(`${formatConfig(config)}\n`);
      return;
    }
    program.error('error: the intercept service is not available in this build yet (--print-config checks the options)');
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number') process.exitCode = code;
    else throw err;
  }
}
