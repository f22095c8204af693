// -d: running tcpcopy or intercept as a daemon. Node cannot fork(), so the parent re-runs the same
// command (same node, node flags, script and arguments, minus -d, secrets moved from the arguments
// to the environment) in a new session with its output
// going to the -l file (or /dev/null), marked by DAEMON_ENV. The child reports over an IPC channel
// once it has started (pid file written, service up) or why it failed; the parent then prints the
// daemon's pid and exits 0, or prints the child's error and exits 1.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** Set in the daemon child's environment: it must run in the foreground and report to its parent. */
export const DAEMON_ENV = 'TCPCOPY_DAEMON_CHILD';
/** Bound on the wait for the child's report. */
export const DAEMON_START_TIMEOUT_MS = 30_000;

export class DaemonError extends Error {
  /** The exit code the parent ends with: the child's, when it said (a -P path it cannot write: 2). */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'DaemonError';
    this.exitCode = exitCode;
  }
}

/** What the parser knows of an option (commander's Option has these fields). */
export interface OptionShape {
  readonly short?: string | undefined;
  readonly long?: string | undefined;
  /** Takes a value (`<v>`). */
  readonly required: boolean;
  /** Takes an optional value (`[v]`). */
  readonly optional: boolean;
}

/**
 * `args` without -d/--daemon, also inside a group of short flags (`-Ld` → `-L`). Option values
 * (`-l -d` names a log file called "-d") and everything after `--` are kept as they are. Pure.
 */
export function withoutDaemonFlag(args: readonly string[], options: readonly OptionShape[]): string[] {
  const byShort = new Map(options.filter((o) => o.short !== undefined).map((o) => [o.short, o]));
  const byLong = new Map(options.filter((o) => o.long !== undefined).map((o) => [o.long, o]));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (a.startsWith('--')) {
      if (a === '--daemon') continue;
      const o = byLong.get(a.split('=')[0]);
      out.push(a);
      if (o?.required === true && !a.includes('=') && i + 1 < args.length) out.push(args[++i] ?? '');
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      let kept = '-';
      let takesNext = false;
      for (let j = 1; j < a.length; j++) {
        const ch = a[j] ?? '';
        const o = byShort.get(`-${ch}`);
        if (o !== undefined && (o.required || o.optional)) {
          kept += a.slice(j); // the rest of the group is this option's value
          takesNext = o.required && j === a.length - 1;
          break;
        }
        if (ch !== 'd') kept += ch;
      }
      if (kept !== '-') out.push(kept);
      if (takesNext && i + 1 < args.length) out.push(args[++i] ?? '');
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Lists, in the daemon child's environment, the options moved there: `--secret=TCPCOPY_SECRET,...`. */
export const DAEMON_SECRETS_ENV = 'TCPCOPY_DAEMON_SECRETS';

/**
 * `args` with the values of the secret-bearing options taken out into environment variables, so
 * the daemon child's argv (world-readable in /proc/PID/cmdline) carries no secret; its environment
 * is readable by its owner only. `secretEnv` maps each long option (`--secret`) to its variable;
 * both `--secret S` and `--secret=S` forms are taken, nothing after `--`. DAEMON_SECRETS_ENV names
 * what was moved; the child puts it back as command-line values (takeDaemonSecrets), so they keep
 * winning over a --config file. Pure.
 */
export function secretsToEnv(
  args: readonly string[],
  secretEnv: Readonly<Record<string, string>>,
): { args: string[]; env: Record<string, string> } {
  const out: string[] = [];
  const env: Record<string, string> = {};
  const moved: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const variable = secretEnv[name];
    if (variable === undefined) {
      out.push(a);
      continue;
    }
    if (name !== a) env[variable] = a.slice(eq + 1);
    else if (i + 1 < args.length) env[variable] = args[++i] ?? '';
    else {
      out.push(a); // no value: the child's parser says so
      continue;
    }
    moved.push(`${name}=${variable}`);
  }
  if (moved.length > 0) env[DAEMON_SECRETS_ENV] = moved.join(',');
  return { args: out, env };
}

/**
 * In the daemon child: the options secretsToEnv moved, with their values, taken out of `env` (the
 * variables are deleted, so children started later do not inherit them). Empty elsewhere.
 */
export function takeDaemonSecrets(env: NodeJS.ProcessEnv): { option: string; value: string }[] {
  const list = env[DAEMON_SECRETS_ENV];
  if (list === undefined || env[DAEMON_ENV] !== '1') return [];
  delete env[DAEMON_SECRETS_ENV];
  const out: { option: string; value: string }[] = [];
  for (const item of list.split(',')) {
    const [option, variable] = item.split('=');
    if (option === undefined || variable === undefined) continue;
    const value = env[variable];
    delete env[variable];
    if (value !== undefined) out.push({ option, value });
  }
  return out;
}

/** Messages from the daemon child to its parent. */
type DaemonMessage =
  | { readonly type: 'started'; readonly pid: number }
  | { readonly type: 'failed'; readonly message: string; readonly exitCode?: number };

function isDaemonMessage(m: unknown): m is DaemonMessage {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'started' || t === 'failed';
}

/** The daemon child's side: tells the parent how the start went (once; later calls do nothing). */
export interface DaemonReporter {
  started(): void;
  /** `exitCode`: what the parent should exit with (default 1). */
  failed(message: string, exitCode?: number): void;
}

/** The reporter when this process is a daemon child started by startDaemon(), else null. */
export function daemonReporter(env: NodeJS.ProcessEnv = process.env): DaemonReporter | null {
  if (env[DAEMON_ENV] !== '1') return null;
  let done = false;
  const report = (m: DaemonMessage): void => {
    if (done) return;
    done = true;
    if (process.send === undefined || !process.connected) return;
    process.send(m, () => {
      if (process.connected) process.disconnect();
    });
  };
  return {
    started: () => report({ type: 'started', pid: process.pid }),
    failed: (message, exitCode) =>
      report(exitCode === undefined ? { type: 'failed', message } : { type: 'failed', message, exitCode }),
  };
}

export interface StartDaemonOptions {
  /** Command name for messages ("tcpcopy"). */
  readonly name: string;
  /** The command's arguments without -d (see withoutDaemonFlag) and without secrets (see secretsToEnv). */
  readonly args: readonly string[];
  /** More environment for the child (the secrets taken out of its arguments). */
  readonly env?: Readonly<Record<string, string>>;
  /** -l: the daemon's standard output and error go there (appended); null = /dev/null. */
  readonly logFile: string | null;
  readonly timeoutMs?: number;
  /** Where the "logs are lost" warning goes; default standard error. */
  readonly warn?: (line: string) => void;
}

/**
 * Spawns the daemon and waits for its report. Resolves with its pid once it started; rejects with
 * DaemonError carrying the child's own error message when it failed, exited or did not report.
 */
export async function startDaemon(opts: StartDaemonOptions): Promise<number> {
  const warn = opts.warn ?? ((l: string): void => void process.stderr.write(l));
  if (opts.logFile === null) warn(`${opts.name}: warning: -d without -l: the daemon's log lines go to /dev/null\n`);
  let out: number;
  try {
    out = openSync(opts.logFile ?? '/dev/null', 'a');
  } catch (err) {
    throw new DaemonError(`cannot open the log file ${opts.logFile ?? '/dev/null'}: ${(err as Error).message}`);
  }
  const script = process.argv[1];
  if (script === undefined) throw new DaemonError('cannot tell which script to re-run as a daemon');
  const child = spawn(process.execPath, [...process.execArgv, script, ...opts.args], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, ...opts.env, [DAEMON_ENV]: '1' },
  });
  closeSync(out);
  const timeoutMs = opts.timeoutMs ?? DAEMON_START_TIMEOUT_MS;
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(new DaemonError(`the daemon did not report its start within ${timeoutMs / 1000} s (killed)`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        child.removeAllListeners();
      };
      child.on('message', (m: unknown) => {
        if (!isDaemonMessage(m)) return;
        finish();
        if (m.type === 'started') resolve(m.pid);
        else reject(new DaemonError(m.message, typeof m.exitCode === 'number' ? m.exitCode : 1));
      });
      child.once('error', (err) => {
        finish();
        reject(new DaemonError(`cannot start the daemon: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        finish();
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code ?? '?'}`;
        const where = opts.logFile === null ? '' : ` (see ${opts.logFile})`;
        reject(new DaemonError(`the daemon ${how} before it started${where}`));
      });
    });
  } finally {
    if (child.connected) child.disconnect();
    child.unref();
  }
}

/**
 * The parent's whole part of -d: starts the daemon with `argv` minus -d, prints its pid on standard
 * output (exit code 0), or the child's error on standard error (exit code 1).
 */
export async function runDaemonParent(
  name: string,
  cmd: { readonly options: readonly OptionShape[] },
  argv: readonly string[],
  logFile: string | null,
  secretEnv: Readonly<Record<string, string>> = {},
): Promise<void> {
  try {
    const { args, env } = secretsToEnv(withoutDaemonFlag(argv, cmd.options), secretEnv);
    const pid = await startDaemon({ name, args, env, logFile });
    process.stdout.write(`${pid}\n`);
  } catch (err) {
    if (!(err instanceof DaemonError)) throw err;
    process.stderr.write(`${name}: error: ${err.message}\n`);
    process.exitCode = err.exitCode;
  }
}
