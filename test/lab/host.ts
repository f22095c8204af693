// One lab host: a network namespace with eth0 on the lab bridge. Runs commands and servers inside
// it (every process is tracked by the lab and killed on destroy) and drives bounded loads from it.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { runCommand, quoteCommand, spawnCommand } from './exec.js';
import type { ExecOptions, ExecResult } from './exec.js';
import { LabError } from './errors.js';
import type { HostAddresses } from './names.js';
import type { NsRunner, SpawnOptions } from './types.js';
import { startNginx } from './nginx.js';
import type { NginxOptions, NginxServer } from './nginx.js';
import { startRedis } from './redis.js';
import type { RedisOptions, RedisServer } from './redis.js';
import { startMariadb } from './mariadb.js';
import type { MariadbOptions, MariadbServer } from './mariadb.js';
import { curlLoad, abLoad, wrkLoad } from './loads.js';
import type { CurlOptions, AbOptions, WrkOptions } from './loads.js';
import type { AbResult, WrkResult } from './loads-parse.js';

/** What a host needs from its lab. */
export interface HostContext extends ShellContext {
  readonly tmpDir: string;
  readonly ipv6: boolean;
  /** True for any address of any host of the lab. */
  isLabAddress(addr: string): boolean;
}

/** What a namespace shell needs from its lab. */
export interface ShellContext {
  /** Throws LabError('EDESTROYED') once the lab is destroyed. */
  assertAlive(): void;
  /** Registers a child process to be killed on destroy. */
  track(child: ChildProcess): void;
}

export interface Offloads {
  tso: boolean;
  gso: boolean;
  gro: boolean;
}

/** Reads tso/gso/gro from `ethtool -k` output. Pure. */
export function parseOffloads(text: string): Offloads {
  const get = (key: string): boolean => {
    const m = new RegExp(`^${key}:\\s+(on|off)`, 'm').exec(text);
    if (m === null) throw new LabError('ECMDFAIL', `ethtool -k output has no ${key}`, { stderr: text.slice(0, 2000) });
    return m[1] === 'on';
  };
  return {
    tso: get('tcp-segmentation-offload'),
    gso: get('generic-segmentation-offload'),
    gro: get('generic-receive-offload'),
  };
}

export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || (isIP(addr) === 4 && addr.startsWith('127.'));
}

/** Runs commands inside one namespace of the lab (tracked: killed on destroy). */
export class NsShell {
  /** The network namespace name. */
  readonly name: string;
  /** Label used in error messages. */
  readonly label: string;
  /** The CPU every process of this namespace is pinned to (taskset), or null: any CPU. */
  readonly cpu: number | null;
  private readonly shell: ShellContext;

  constructor(ns: string, label: string, ctx: ShellContext, cpu: number | null = null) {
    this.name = ns;
    this.label = label;
    this.cpu = cpu;
    this.shell = ctx;
  }

  /** `ip netns exec` arguments for cmd, through taskset when the namespace is pinned to a CPU. */
  private nsArgs(cmd: string, args: readonly string[]): string[] {
    return this.cpu === null
      ? ['netns', 'exec', this.name, cmd, ...args]
      : ['netns', 'exec', this.name, 'taskset', '-c', String(this.cpu), cmd, ...args];
  }

  /** Runs cmd inside the namespace (`ip netns exec`); throws LabError on non-zero exit unless check: false. */
  async exec(cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    this.shell.assertAlive();
    return await runCommand(
      'ip',
      this.nsArgs(cmd, args),
      opts,
      (c) => this.shell.track(c),
      `[${this.label}] ${quoteCommand(cmd, args)}`,
    );
  }

  /** Starts cmd inside the namespace; the process is killed (SIGTERM, then SIGKILL) on destroy. */
  spawn(cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    this.shell.assertAlive();
    const child = spawnCommand('ip', this.nsArgs(cmd, args), opts.stdio ?? ['ignore', 'pipe', 'pipe'], undefined, {
      env: opts.env,
      cwd: opts.cwd,
    });
    this.shell.track(child);
    return child;
  }
}

export class LabHost extends NsShell implements NsRunner {
  /** The short host name given to Lab.create (e.g. 'cli'). */
  readonly hostName: string;
  /** 1-based host number: addresses end in it. */
  readonly n: number;
  readonly ip: string;
  /** fd77::N; only configured when the lab has IPv6 (the default). */
  readonly ip6: string;
  readonly ipv6: boolean;
  readonly ifname = 'eth0';
  readonly mac: string;
  private readonly ctx: HostContext;

  constructor(ns: string, hostName: string, addr: HostAddresses, ctx: HostContext, cpu: number | null = null) {
    super(ns, hostName, ctx, cpu);
    this.hostName = hostName;
    this.n = addr.n;
    this.ip = addr.ip;
    this.ip6 = addr.ip6;
    this.mac = addr.mac;
    this.ipv6 = ctx.ipv6;
    this.ctx = ctx;
  }

  async makeTempDir(tag: string): Promise<string> {
    this.ctx.assertAlive();
    return mkdtemp(join(this.ctx.tmpDir, `${this.hostName}-${tag}-`));
  }

  assertLabUrl(url: string): void {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      throw new LabError('EBADARG', `bad URL ${JSON.stringify(url)}`);
    }
    if (!isLoopback(host) && !this.ctx.isLabAddress(host)) {
      throw new LabError('EBADARG', `refusing to send load to ${host}: only lab addresses and loopback are allowed`);
    }
  }

  startNginx(opts: NginxOptions = {}): Promise<NginxServer> {
    return startNginx(this, opts);
  }

  startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
    return startRedis(this, opts);
  }

  startMariadb(opts: MariadbOptions = {}): Promise<MariadbServer> {
    return startMariadb(this, opts);
  }

  /** `ip route replace <dst> via <via>` in this host. */
  async addRoute(dst: string, via: string): Promise<void> {
    this.ctx.assertAlive();
    await runCommand('ip', ['-n', this.name, 'route', 'replace', dst, 'via', via]);
  }

  /** `sysctl -w key=value` in this host (net.* keys are per namespace). */
  async sysctl(key: string, value: string | number): Promise<void> {
    if (!/^[a-z0-9_.\-/]+$/i.test(key)) throw new LabError('EBADARG', `bad sysctl key ${JSON.stringify(key)}`);
    await this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Turns eth0 offloads on/off with ethtool (unspecified ones are left alone). */
  async setOffloads(o: Partial<Offloads>): Promise<void> {
    const args: string[] = [];
    for (const k of ['tso', 'gso', 'gro'] as const) {
      const v = o[k];
      if (v !== undefined) args.push(k, v ? 'on' : 'off');
    }
    if (args.length > 0) await this.exec('ethtool', ['-K', this.ifname, ...args]);
  }

  async offloads(): Promise<Offloads> {
    return parseOffloads((await this.exec('ethtool', ['-k', this.ifname])).stdout);
  }

  /** count GETs of url from this host; returns each HTTP status (0 = no response). */
  curl(url: string, opts: CurlOptions): Promise<number[]> {
    return curlLoad(this, url, opts);
  }

  ab(opts: AbOptions): Promise<AbResult> {
    return abLoad(this, opts);
  }

  wrk(opts: WrkOptions): Promise<WrkResult> {
    return wrkLoad(this, opts);
  }
}
