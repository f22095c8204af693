// What both command lines share: one error format (`tcpcopy: error: …`, `intercept: error: …`,
// commander's own messages included) and the exit codes of src/exit-codes.ts — 0 for -h and
// --version, 2 for any usage error, whoever finds it.
import { Command, CommanderError } from 'commander';
import { appendFileSync } from 'node:fs';
import { createJsonLogger, createLogger } from '../log/index.js';
import type { Logger } from '../log/index.js';
import { ExitCode } from '../exit-codes.js';
import { VERSION } from '../version.js';
import { describeFsError } from '../process/pidfile.js';
import { daemonReporter, runDaemonParent } from '../process/daemon.js';
import type { DaemonReporter } from '../process/daemon.js';
import { SECRET_ENV_VAR, missingSecretMessage, secretMissing } from '../channel/index.js';
import { MYSQL_ENV } from './options/mysql.js';
import { OptionError } from './options/errors.js';
import { formatConfig } from './options/commands.js';

export type ToolName = 'tcpcopy' | 'intercept';

/** The one-line error both tools print: `<tool>: error: <message>`. */
export function errorLine(tool: ToolName, message: string): string {
  return `${tool}: error: ${message}\n`;
}

let stdoutGuarded = false;

/**
 * A reader that closes standard output early (`tcpcopy -h | head -3`) ends the tool quietly, as a
 * piped Unix tool ends, instead of with an EPIPE stack trace. Once per process.
 */
export function endQuietlyWhenStdoutCloses(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

/** The root command of a tool: -v/--version, -h/--help, `help`, errors in the tools' format. */
export function toolProgram(tool: ToolName, description: string): Command {
  return (
    new Command(tool)
      .description(description)
      .version(VERSION, '-v, --version', 'print the version and exit')
      .helpOption('-h, --help', 'print this help and exit')
      .helpCommand('help', 'print this help and exit')
      // Commander's messages start with "error: "; ours are made to.
      .configureOutput({ outputError: (text, write) => write(`${tool}: ${text}`) })
      .exitOverride()
  );
}

/** Reports a usage error (an option, a file named by one, the configuration) and exits 2. */
export function usageError(program: Command, message: string): never {
  program.error(`error: ${message}`, { exitCode: ExitCode.BAD_INPUT, code: 'tcpcopy.badInput' });
}

const FINE = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** Parses `argv` and runs the chosen action; commander's own errors exit 2 (usage), -h and --version 0. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    process.exitCode = FINE.has(err.code)
      ? ExitCode.OK
      : err.exitCode === ExitCode.OK
        ? ExitCode.OK
        : ExitCode.BAD_INPUT;
  }
}

/** A usage error unless the -l log file can be opened for appending (checked before any work). */
export function checkLogFile(program: Command, path: string | null): void {
  if (path === null) return;
  try {
    appendFileSync(path, '');
  } catch (e) {
    usageError(program, `-l ${path}: cannot write the log file (${describeFsError(e)})`);
  }
}

/** Runs an option parser; its OptionError is a usage error (exit 2), anything else propagates. */
export function parseOptions<T>(program: Command, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof OptionError) usageError(program, err.message);
    throw err;
  }
}

/** --print-config: prints the checked configuration and says the run is over. */
export function printedConfig(opts: { printConfig?: boolean }, config: Parameters<typeof formatConfig>[0]): boolean {
  if (opts.printConfig !== true) return false;
  process.stdout.write(`${formatConfig(config)}\n`);
  return true;
}

export interface ServiceStart {
  readonly tool: ToolName;
  /** Who holds the other end of the channel (named in the missing-secret error). */
  readonly peer: ToolName;
  readonly program: Command;
  readonly argv: readonly string[];
  readonly config: {
    readonly secret: string | null;
    readonly tcpcopy1: boolean;
    readonly daemon: boolean;
    readonly logFile: string | null;
  };
}

/**
 * The common start of a live service: the channel secret is required (usage error otherwise); with -d
 * this process becomes the daemon's parent and reports its start-up, else the service runs here.
 */
export async function startService(
  s: ServiceStart,
  run: (daemon: DaemonReporter | null) => Promise<void>,
): Promise<void> {
  if (secretMissing(s.config)) usageError(s.program, missingSecretMessage(s.tool, s.peer));
  const daemon = daemonReporter();
  if (s.config.daemon && daemon === null) {
    await runDaemonParent(s.tool, s.program, s.argv, s.config.logFile, {
      '--secret': SECRET_ENV_VAR,
      '--mysql': MYSQL_ENV,
    });
    return;
  }
  await run(daemon);
}

/** The tools' logger: C-style lines to -l's file (appended), or to standard error. */
export function makeLogger(
  logFile: string | null,
  format: 'text' | 'json' = 'text',
  tool: 'tcpcopy' | 'intercept' = 'tcpcopy',
): Logger {
  const write =
    logFile === null
      ? (l: string): void => void process.stderr.write(l)
      : (l: string): void => appendFileSync(logFile, l);
  const o = { write, now: () => Date.now(), minLevel: 'info' as const };
  return format === 'json' ? createJsonLogger({ ...o, tool }) : createLogger(o);
}
