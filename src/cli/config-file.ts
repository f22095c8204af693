// --config FILE: options from a JSON file, by their long names as -h shows them
// (`{ "transfer": "80-10.0.0.2:8080", "intercept": "10.0.0.3", "session-timeout": 60, "no-wait": true }`).
// A flag given on the command line wins over the file. --secret-file FILE: the channel secret from a
// file's first line (a systemd credential, a file only root reads) instead of the command line.
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { OptionError } from './options/index.js';
import { describeFsError } from '../process/pidfile.js';
import { takeDaemonSecrets } from '../process/daemon.js';

/** Options a file does not set: the ones about reading files, and the hidden --print-config. */
const NOT_IN_FILE = new Set(['--config', '--print-config']);

function findOption(program: Command, key: string): Option | undefined {
  return program.options.find((o) => o.long === `--${key}` && !NOT_IN_FILE.has(o.long));
}

/**
 * Sets every option of the JSON object in `path` that the command line did not set. Throws
 * OptionError naming the file and the key for an unreadable file, bad JSON, an unknown option or a
 * value of the wrong kind.
 */
export function applyConfigFile(program: Command, path: string): void {
  const where = `--config ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OptionError('BAD_FORMAT', `${where}: cannot read the file (${describeFsError(e)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new OptionError('BAD_FORMAT', `${where}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new OptionError(
      'BAD_FORMAT',
      `${where}: expected a JSON object of long option names, e.g. { "transfer": "80-10.0.0.2:8080" }`,
    );
  }
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const opt = findOption(program, key);
    if (opt === undefined)
      throw new OptionError(
        'BAD_FORMAT',
        `${where}: unknown option '${key}' (the long names of -h, without the dashes)`,
      );
    const attr = opt.attributeName();
    if (program.getOptionValueSource(attr) === 'cli') continue;
    if (opt.required || opt.optional) {
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new OptionError(
          'BAD_FORMAT',
          `${where}: '${key}' takes a value (a string or a number), got ${JSON.stringify(value)}`,
        );
      }
      program.setOptionValueWithSource(attr, String(value), 'config');
    } else {
      if (typeof value !== 'boolean')
        throw new OptionError(
          'BAD_FORMAT',
          `${where}: '${key}' is a flag: true or false, got ${JSON.stringify(value)}`,
        );
      // A flag set false is the same as not given; `--no-x: true` sets x to false.
      if (value) program.setOptionValueWithSource(attr, !opt.negate, 'config');
    }
  }
}

/** The secret in the first line of `path` (--secret-file). */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OptionError('BAD_FORMAT', `--secret-file ${path}: cannot read the file (${describeFsError(e)})`);
  }
  const secret = (text.split(/\r?\n/)[0] ?? '').trim();
  if (secret === '') throw new OptionError('BAD_FORMAT', `--secret-file ${path}: the first line is empty`);
  return secret;
}

/**
 * Applies --config and --secret-file to the parsed options of `program`; returns the options to
 * validate. The command line's own values always win.
 */
/** The options --config and --secret-file, as commander hands them over. */
export interface FileOptions {
  config?: string;
  secretFile?: string;
  /** --mysql-file: its text goes to mysqlFileText (tcpcopy only). */
  mysqlFile?: string;
  mysqlFileText?: string;
}

export function loadFileOptions<T extends FileOptions & { secret?: string }>(program: Command): T {
  // A daemon child: the secrets its parent moved out of argv are command-line values again.
  for (const { option, value } of takeDaemonSecrets(process.env)) {
    const opt = program.options.find((o) => o.long === option);
    if (opt !== undefined) program.setOptionValueWithSource(opt.attributeName(), value, 'cli');
  }
  const first = program.opts<T>();
  if (first.config !== undefined) applyConfigFile(program, first.config);
  const opts = program.opts<T>();
  if (opts.secretFile !== undefined) {
    if (
      opts.secret !== undefined &&
      program.getOptionValueSource('secret') === program.getOptionValueSource('secretFile')
    ) {
      throw new OptionError('CONFLICT', '--secret and --secret-file: give one');
    }
    if (program.getOptionValueSource('secret') !== 'cli') opts.secret = readSecretFile(opts.secretFile);
  }
  if (opts.mysqlFile !== undefined) {
    try {
      opts.mysqlFileText = readFileSync(opts.mysqlFile, 'utf8');
    } catch (e) {
      throw new OptionError(
        'BAD_FORMAT',
        `--mysql-file ${opts.mysqlFile}: cannot read the file (${describeFsError(e)})`,
      );
    }
  }
  return opts;
}
