// Shared interfaces of the lab modules (kept apart so host/nginx/redis/loads do not import each other).
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { ExecOptions, ExecResult } from './exec.js';

export interface SpawnOptions {
  /** Default ['ignore', 'pipe', 'pipe']: read (or destroy) stdout/stderr, or pass 'ignore'/'inherit'. */
  stdio?: StdioOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What server and load helpers need from a host: run things inside its namespace. */
export interface NsRunner {
  /** The network namespace name. */
  readonly name: string;
  readonly ip: string;
  /** The IPv6 address (configured only when ipv6 is true). */
  readonly ip6: string;
  readonly ipv6: boolean;
  exec(cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** A fresh private directory under the lab's temp dir (removed on destroy). */
  makeTempDir(tag: string): Promise<string>;
  /** Throws LabError('EBADARG') unless the URL's host is a lab address or loopback. */
  assertLabUrl(url: string): void;
}
