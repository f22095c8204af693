// intercept command line: runs on the target or an assistant server and returns the target's
// responses to tcpcopy. The channel and capture wiring arrive with the live-replication work.
import { Command } from 'commander';
import { VERSION } from '../version.js';

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('intercept')
    .description("capture the target server's responses and return their headers to tcpcopy")
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code === 'number') process.exitCode = code;
    else throw err;
  }
}
