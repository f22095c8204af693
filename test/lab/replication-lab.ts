// The replication lab: four hosts on one bridge — cli (clients), onl (the online server, where
// tcpcopy captures), tgt (the target server) and ast (the assistant host, where intercept captures
// the target's replies) — with the online and target servers running, tgt routing its replies to
// the client addresses via ast (which does not forward them), intercept on ast and tcpcopy on onl.
// Used by the end-to-end replication tests, the demo and the benchmarks.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { Lab } from './lab.js';
import type { LabHost } from './host.js';
import { LabError } from './errors.js';
import type { NginxServer } from './nginx.js';
import type { RedisServer } from './redis.js';
import type { MariadbServer, MariadbUser } from './mariadb.js';
import { countLeaks } from './frame-counter.js';
import type { FrameCounter } from './frame-counter.js';
import { watchProcess, stopWatched, pollUntil } from './proc-watch.js';
import type { ProcessWatch } from './proc-watch.js';

export type ReplicatedService = 'nginx' | 'redis' | 'mariadb';

/** The server handle of a service: nginx's access log, redis-cli, or MariaDB's sql() and logs. */
export type ServerOf<S extends ReplicatedService> = S extends 'nginx'
  ? NginxServer
  : S extends 'redis'
    ? RedisServer
    : MariadbServer;

/** Online and target ports per service. */
export const REPLICATION_PORTS: Readonly<Record<ReplicatedService, { online: number; target: number }>> = {
  nginx: { online: 80, target: 8080 },
  redis: { online: 6379, target: 6379 },
  mariadb: { online: 3306, target: 3306 },
};

/**
 * The application users of the mariadb service: the same name on both servers with a different
 * password on each, as a test database has its own credentials. A login copied byte for byte then
 * cannot pass on the target (its scramble differs too); the MySQL mode has to log in afresh.
 */
export const MARIADB_LAB_USERS = {
  name: 'sbtest',
  /** The ed25519 user (only with the ed25519 option), with the same password as `name` on its server. */
  ed25519Name: 'sbtest_ed',
  onlinePassword: 'sbtest-online-A',
  targetPassword: 'sbtest-target-B',
} as const;

export interface MariadbLabOptions {
  /** Default MARIADB_LAB_USERS.onlinePassword. */
  onlinePassword?: string;
  /** Default MARIADB_LAB_USERS.targetPassword. */
  targetPassword?: string;
  /** Also create the ed25519 user on both servers. Default false. */
  ed25519?: boolean;
}

/** The users of the online or the target server of the mariadb service. Pure. */
export function mariadbLabUsers(side: 'online' | 'target', o: MariadbLabOptions = {}): MariadbUser[] {
  const password =
    side === 'online'
      ? (o.onlinePassword ?? MARIADB_LAB_USERS.onlinePassword)
      : (o.targetPassword ?? MARIADB_LAB_USERS.targetPassword);
  const users: MariadbUser[] = [{ name: MARIADB_LAB_USERS.name, password }];
  if (o.ed25519 === true) users.push({ name: MARIADB_LAB_USERS.ed25519Name, password, plugin: 'ed25519' });
  return users;
}

/**
 * Extra node flags for the tcpcopy and intercept processes the lab starts, from the environment
 * (TCPCOPY_LAB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"): NODE_OPTIONS refuses profiling flags.
 */
function labNodeArgs(): string[] {
  const v = process.env.TCPCOPY_LAB_NODE_ARGS ?? '';
  return v.split(/\s+/).filter((a) => a.length > 0);
}

/** The lab's host names, in creation order (cli 10.77.0.1, onl .2, tgt .3, ast .4). */
export const REPLICATION_HOSTS = ['cli', 'onl', 'tgt', 'ast'] as const;

const DEFAULT_SECRET = 'replication-lab-secret';
const DEFAULT_STARTUP_MS = 20_000;
const DEFAULT_STOP_MS = 10_000;
/** Listen queue sizes on onl and tgt, so bursts of short connections are not refused. */
const SOMAXCONN = 4096;
const SYN_BACKLOG = 8192;

export interface ReplicationLabOptions<S extends ReplicatedService> {
  service: S;
  /** The mariadb service's users (ignored by the others). */
  mariadb?: MariadbLabOptions;
  /** Extra tcpcopy arguments, after the lab's own (-x, -s, -i, --secret). */
  tcpcopyArgs?: readonly string[];
  /** Extra intercept arguments, after the lab's own (-i, -F, --secret). */
  interceptArgs?: readonly string[];
  /** The channel secret. Default: a fixed test secret. */
  secret?: string;
  /**
   * tcpcopy sends at the data link of onl's eth0: `-o eth0` and -x with onl's and tgt's MACs
   * (`80@onlMAC-tgtIP:8080@tgtMAC`). Default false (raw IP send).
   */
  linkSend?: boolean;
  /**
   * Replicate over IPv6: the hosts also get their fd77::N addresses, cli's IPv6 traffic to onl is
   * copied to tgt's IPv6 address (`-x 80-[tgt6]:8080`), tgt routes cli's IPv6 address via ast (which
   * forwards neither family), intercept captures tgt's IPv6 replies, and the channel runs over IPv6
   * too (`-s [ast6]`, intercept `-b ast6`). Default false (IPv4 only, IPv6 disabled in the hosts).
   */
  ipv6?: boolean;
  /** nginx only: more configuration in each server's block (location blocks), per side. */
  nginxLocations?: { readonly online?: string; readonly target?: string };
  /** Start tcpcopy during create (default true); false leaves it to startTcpcopy(). */
  startTcpcopy?: boolean;
  /** Bound on each readiness wait (intercept listening, tcpcopy authenticated). Default 20 s. */
  startupTimeoutMs?: number;
  /**
   * Where the hosts run. 'shared' (default): every host on every CPU, so the target server competes
   * for the same two CPUs with the online server, its load, tcpcopy and intercept. 'split': the
   * target server on a CPU of its own (CPU 1), as a test server is a machine of its own; the load,
   * the online server, tcpcopy and intercept on CPU 0 (see SPLIT_CPUS).
   */
  cpus?: LabCpus;
}

export type LabCpus = 'shared' | 'split';

/**
 * The CPU of each host when the lab's CPUs are split. The target host alone on CPU 1: what it gets
 * does not depend on how hard the online side runs. Intercept (ast) stays with the online side: on
 * this machine's two CPUs one of them has to, and with the target it would halve the target
 * server's CPU (its channel writes carry tcpcopy's receive work over veth), making the target a
 * machine half the online server's size.
 */
export const SPLIT_CPUS: Readonly<Record<(typeof REPLICATION_HOSTS)[number], number>> = Object.freeze({
  cli: 0,
  onl: 0,
  ast: 0,
  tgt: 1,
});

/** The counters of a final summary (`tcpcopy summary after 12.3 s:` and the lines after it). */
export class ProcessSummary {
  readonly elapsedS: number;
  /** Every `name:number` pair of the summary lines, e.g. 'conns', 'for no syn', 'capture dropped'. */
  readonly counters: ReadonlyMap<string, number>;

  constructor(elapsedS: number, counters: ReadonlyMap<string, number>) {
    this.elapsedS = elapsedS;
    this.counters = counters;
  }

  /** The counter's value; throws if the summary has no such counter. */
  get(name: string): number {
    const v = this.counters.get(name);
    if (v === undefined)
      throw new LabError(
        'EBADARG',
        `summary has no counter ${JSON.stringify(name)}; it has ${[...this.counters.keys()].join(', ')}`,
      );
    return v;
  }
}

/**
 * Parses the last final summary of `which` ('tcpcopy' or 'intercept') in a log. Pure. Returns null
 * when the log has no summary. Lines are `<date> <time> +<ms> [level] text`; counters are the
 * comma- (or ' / '-) separated `name:number` pieces of the lines after the header.
 */
export function parseSummary(log: string, which: 'tcpcopy' | 'intercept'): ProcessSummary | null {
  const lines = log.split('\n');
  const header = new RegExp(`\\] ${which} summary after ([\\d.]+) s:\\s*$`);
  let start = -1;
  let elapsedS = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = header.exec(lines[i] ?? '');
    if (m) {
      start = i;
      elapsedS = Number(m[1]);
      break;
    }
  }
  if (start < 0) return null;
  const counters = new Map<string, number>();
  for (const line of lines.slice(start + 1)) {
    const m = /^\S+ \S+ \+\d+ \[notice\] (.*)$/.exec(line);
    if (!m) continue;
    for (const piece of (m[1] ?? '').split(/,| \/ /)) {
      const kv = /^\s*([a-z][a-z -]*?)\s*:\s*(\d+)\s*$/i.exec(piece);
      if (kv && kv[1] !== undefined) counters.set(kv[1], Number(kv[2]));
    }
  }
  return new ProcessSummary(elapsedS, counters);
}

/** How one of the lab's processes ended. */
export interface StoppedProcess {
  exitCode: number | null;
  /** Its whole output (log lines on stderr). */
  log: string;
  /** Its final summary, null if it printed none. */
  summary: ProcessSummary | null;
}

export interface ReplicationStopResult {
  /** null when tcpcopy was never started. */
  tcpcopy: StoppedProcess | null;
  intercept: StoppedProcess;
}

interface Watched {
  child: ChildProcess;
  watch: ProcessWatch;
}

/** Starts intercept on ast (the lab's own arguments, then interceptArgs) and waits until it listens. */
async function spawnIntercept<S extends ReplicatedService>(lab: Lab, opts: ReplicationLabOptions<S>): Promise<Watched> {
  const ipv6 = opts.ipv6 === true;
  const ast = lab.host('ast');
  const tgt = lab.host('tgt');
  const child = ast.spawn(process.execPath, [
    ...labNodeArgs(),
    join(packageRoot(), 'bin', 'intercept'),
    '-i',
    'eth0',
    '-F',
    `tcp and src host ${ipv6 ? tgt.ip6 : tgt.ip} and src port ${REPLICATION_PORTS[opts.service].target}`,
    ...(ipv6 ? ['-b', ast.ip6] : []),
    '--secret',
    opts.secret ?? DEFAULT_SECRET,
    ...(opts.interceptArgs ?? []),
  ]);
  const intercept = { child, watch: watchProcess(child) };
  await intercept.watch.waitFor(/intercept listening on /, opts.startupTimeoutMs ?? DEFAULT_STARTUP_MS);
  return intercept;
}

/** The packet counter for frames from tgt delivered to cli's own MAC (replies that escaped ast). */
type LeakCounter = FrameCounter;

export class ReplicationLab<S extends ReplicatedService> {
  readonly lab: Lab;
  readonly service: S;
  readonly cli: LabHost;
  readonly onl: LabHost;
  readonly tgt: LabHost;
  readonly ast: LabHost;
  readonly online: ServerOf<S>;
  readonly target: ServerOf<S>;
  readonly onlinePort: number;
  readonly targetPort: number;
  readonly secret: string;
  /** True when the lab replicates over IPv6 (the ipv6 option). */
  readonly ipv6: boolean;
  private readonly opts: ReplicationLabOptions<S>;
  private readonly leak: LeakCounter;
  private intercept: Watched;
  /** Output of the intercepts killed before this one (restartIntercept). */
  private earlierInterceptLogs = '';
  private tcpcopy: Watched | null = null;
  private stopped: ReplicationStopResult | null = null;

  private constructor(init: {
    lab: Lab;
    opts: ReplicationLabOptions<S>;
    online: ServerOf<S>;
    target: ServerOf<S>;
    leak: LeakCounter;
    intercept: Watched;
  }) {
    this.lab = init.lab;
    this.service = init.opts.service;
    this.cli = init.lab.host('cli');
    this.onl = init.lab.host('onl');
    this.tgt = init.lab.host('tgt');
    this.ast = init.lab.host('ast');
    this.online = init.online;
    this.target = init.target;
    this.onlinePort = REPLICATION_PORTS[this.service].online;
    this.targetPort = REPLICATION_PORTS[this.service].target;
    this.secret = init.opts.secret ?? DEFAULT_SECRET;
    this.ipv6 = init.opts.ipv6 === true;
    this.opts = init.opts;
    this.leak = init.leak;
    this.intercept = init.intercept;
  }

  /** Builds the lab, starts both servers and intercept, and (unless startTcpcopy is false) tcpcopy. */
  static async create<S extends ReplicatedService>(opts: ReplicationLabOptions<S>): Promise<ReplicationLab<S>> {
    const ipv6 = opts.ipv6 === true;
    const lab = await Lab.create({
      hosts: REPLICATION_HOSTS,
      ipv6,
      ...(opts.cpus === 'split' ? { cpus: SPLIT_CPUS } : {}),
    });
    let leak: LeakCounter | undefined;
    try {
      const [cli, onl, tgt, ast] = REPLICATION_HOSTS.map((h) => lab.host(h)) as [LabHost, LabHost, LabHost, LabHost];
      for (const h of [onl, tgt]) {
        await h.sysctl('net.core.somaxconn', SOMAXCONN);
        await h.sysctl('net.ipv4.tcp_max_syn_backlog', SYN_BACKLOG);
      }
      leak = await countLeaks(cli, tgt, ipv6);
      const ports = REPLICATION_PORTS[opts.service];
      const start = (h: LabHost, port: number, side: 'online' | 'target'): Promise<ServerOf<ReplicatedService>> => {
        if (opts.service === 'nginx') {
          const locations = opts.nginxLocations?.[side];
          return h.startNginx({ port, ...(locations === undefined ? {} : { locations }) });
        }
        if (opts.service === 'redis') return h.startRedis({ port });
        return h.startMariadb({ port, users: mariadbLabUsers(side, opts.mariadb) });
      };
      // Side by side: a MariaDB takes about a second to bootstrap and start.
      const [online, target] = (await Promise.all([
        start(onl, ports.online, 'online'),
        start(tgt, ports.target, 'target'),
      ])) as [ServerOf<S>, ServerOf<S>];
      // The target answers the client addresses through ast, which captures and drops the replies.
      await tgt.addRoute(`${cli.ip}/32`, ast.ip);
      await ast.sysctl('net.ipv4.ip_forward', 0);
      if (ipv6) {
        await tgt.addRoute(`${cli.ip6}/128`, ast.ip6);
        await ast.sysctl('net.ipv6.conf.all.forwarding', 0);
      }

      const intercept = await spawnIntercept(lab, opts);
      const rl = new ReplicationLab<S>({ lab, opts, online, target, leak, intercept });
      if (opts.startTcpcopy ?? true) await rl.startTcpcopy();
      return rl;
    } catch (e) {
      leak?.close();
      await lab.destroy();
      throw e;
    }
  }

  /** Starts tcpcopy on onl and waits until all its channel connections to intercept are authenticated. */
  async startTcpcopy(): Promise<void> {
    if (this.tcpcopy !== null) throw new LabError('EBADARG', 'tcpcopy is already started');
    const extra = this.opts.tcpcopyArgs ?? [];
    const tgtAddr = this.ipv6 ? `[${this.tgt.ip6}]` : this.tgt.ip;
    const transfer =
      this.opts.linkSend === true
        ? [
            '-x',
            `${this.onlinePort}@${this.onl.mac}-${tgtAddr}:${this.targetPort}@${this.tgt.mac}`,
            '-o',
            this.onl.ifname,
          ]
        : ['-x', `${this.onlinePort}-${tgtAddr}:${this.targetPort}`];
    const child = this.onl.spawn(process.execPath, [
      ...labNodeArgs(),
      join(packageRoot(), 'bin', 'tcpcopy'),
      ...transfer,
      '-s',
      this.ipv6 ? `[${this.ast.ip6}]` : this.ast.ip,
      '-i',
      'eth0',
      '--secret',
      this.secret,
      ...extra,
    ]);
    this.tcpcopy = { child, watch: watchProcess(child) };
    const n = channelConnections(extra);
    await this.tcpcopy.watch.waitFor(
      new RegExp(`channel: ${n} connection\\(s\\) to intercept authenticated`),
      this.opts.startupTimeoutMs ?? DEFAULT_STARTUP_MS,
    );
  }

  /** The address clients use for host h: its IPv6 address when the lab replicates over IPv6, else its IPv4 one. */
  addressOf(h: LabHost): string {
    return this.ipv6 ? h.ip6 : h.ip;
  }

  /** http://<onl>/ in the lab's family (IPv6 in brackets), plus path. */
  onlineUrl(path = '/'): string {
    return `http://${this.ipv6 ? `[${this.onl.ip6}]` : this.onl.ip}${this.onlinePort === 80 ? '' : `:${this.onlinePort}`}${path}`;
  }

  /** tcpcopy's output so far ('' before it starts). */
  tcpcopyLog(): string {
    return this.tcpcopy?.watch.text() ?? '';
  }

  interceptLog(): string {
    return this.earlierInterceptLogs + this.intercept.watch.text();
  }

  /** tcpcopy's process (null before it starts): a test may signal it or read its pid. */
  get tcpcopyProcess(): ChildProcess | null {
    return this.tcpcopy?.child ?? null;
  }

  /** intercept's process: a test may read its pid. */
  get interceptProcess(): ChildProcess {
    return this.intercept.child;
  }

  /** Kills intercept with SIGKILL (no cleanup, as a crash) and waits until it is gone; returns its exit signal. */
  async killIntercept(): Promise<string | null> {
    const { child } = this.intercept;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await gone;
    }
    return child.signalCode;
  }

  /** Starts intercept again with the same arguments (after killIntercept) and waits until it listens. */
  async restartIntercept(): Promise<void> {
    const { child, watch } = this.intercept;
    if (child.exitCode === null && child.signalCode === null) throw new LabError('EBADARG', 'intercept still runs');
    this.earlierInterceptLogs += watch.text();
    this.intercept = await spawnIntercept(this.lab, this.opts);
  }

  /** Both processes' output, for assertion messages. */
  diagnostics(): string {
    return `--- tcpcopy:\n${this.tcpcopyLog()}\n--- intercept:\n${this.interceptLog()}`;
  }

  /** Frames from tgt delivered to cli's own MAC so far (after settleMs for the capture to catch up). */
  async leakedFrames(settleMs = 200): Promise<number> {
    await new Promise((r) => setTimeout(r, settleMs));
    return this.leak.frames;
  }

  /** nginx only: polls the target's access log until it has count lines or timeoutMs passes; returns its lines. */
  async waitForTarget(count: number, timeoutMs: number): Promise<string[]> {
    if (this.service !== 'nginx') throw new LabError('EBADARG', 'waitForTarget needs the nginx service');
    const target = this.target as NginxServer;
    let lines: string[] = [];
    await pollUntil(async () => (lines = await target.logLines()).length >= count, timeoutMs);
    return lines;
  }

  /**
   * Stops tcpcopy, then intercept (SIGTERM, bounded), and returns their logs and final summaries.
   * Idempotent. The leak capture is closed too; the lab stays up until destroy().
   */
  async stop(timeoutMs = DEFAULT_STOP_MS): Promise<ReplicationStopResult> {
    if (this.stopped !== null) return this.stopped;
    const end = async (w: Watched, which: 'tcpcopy' | 'intercept'): Promise<StoppedProcess> => {
      const exitCode = await stopWatched(w.child, w.watch, timeoutMs);
      const log = w.watch.text();
      return { exitCode, log, summary: parseSummary(log, which) };
    };
    const tcpcopy = this.tcpcopy !== null ? await end(this.tcpcopy, 'tcpcopy') : null;
    const intercept = await end(this.intercept, 'intercept');
    this.leak.close();
    this.stopped = { tcpcopy, intercept };
    return this.stopped;
  }

  /** Kills everything and removes the namespaces. Idempotent. */
  async destroy(): Promise<void> {
    this.leak.close();
    await this.lab.destroy();
  }
}

/** The number of channel connections tcpcopy opens: its -C/--connections value, default 2. */
export function channelConnections(tcpcopyArgs: readonly string[]): number {
  let n = 2;
  for (let i = 0; i < tcpcopyArgs.length; i++) {
    const a = tcpcopyArgs[i] ?? '';
    const eq = /^--connections=(\d+)$/.exec(a);
    if (eq) n = Number(eq[1]);
    else if ((a === '-C' || a === '--connections') && tcpcopyArgs[i + 1] !== undefined) n = Number(tcpcopyArgs[i + 1]);
  }
  return n;
}
